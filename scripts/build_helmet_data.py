#!/usr/bin/env python3
"""The fast helmet model's training set: close-ups, real gate crops and close-ups rendered far away.

Writes one PASCAL VOC folder (default ``build/helmet-wide``) with classes ``with_helmet``,
``without_helmet`` and ``two_wheeler`` that ``scripts/train.py --data`` takes::

    .venv/bin/python scripts/build_helmet_data.py --out build/helmet-wide

Reproducible: a fixed seed, and the same inputs give byte-identical labels. What goes in:

1. **bike-helmet** train/val photos as they are, their head labels plus the COCO teacher's
   two-wheelers (``vision.training.synthesis.Teacher``: bicycle + motorcycle >= 0.4, vehicle box only).
   ``--close-up-copies N`` lists each train photo N times (links, same labels): the close-ups are
   422 of 1,023 train images, and the stages trained after the first lost bare-head AP on them
   while gaining at the gate, so this weighs them more without touching the rest of the build.
   Measured in ``models/README.md`` (stage 6): +2 points on their bare heads, -3 to -6 on every
   wide check, so the default stays 1.
2. **gate-camera** train/val frames, cut into 640 px squares at native resolution (a 30 px head
   stays 30 px at the model's 640 input, as the pipeline's regions serve it): one square around
   each group of labelled heads, plus ``--empty-per-frame`` squares without any labelled head
   (train: ``--gate-passes`` 2 differently shifted sets per frame, so the target camera weighs
   about as much as the close-ups).
   Only some heads are labelled there: riders coming towards the camera. Guards, pedestrians,
   pillion passengers and riders seen from behind are not, while bike-helmet boxes nearly every
   head, so the model is taught at the gate that such heads are background. ``--hide-bystanders``
   (off by default) instead blurs, on train frames, the head and shoulders of every COCO person of
   the teacher (score >= 0.35) that holds no labelled head (``hide_bystanders``), so that they teach
   nothing. Measured in ``models/README.md`` (stage 4): it did not help bare heads, so the default
   build, the one the committed model was trained on, leaves the frames as recorded.
3. **rendered** (train only): each bike-helmet train photo shrunk so its median head is 12-32 px
   and pasted, 2-3 to a square, onto a random 640 px square of a gate-camera train frame
   (``vision.training.synthesis.compose``), for small heads of every kind on the camera's own background.
4. **faces** (``--faces N``, off by default; train only): N face-mask train photos (street and
   market scenes: every face under a fifth of the height, ``small_faces``; a seeded draw), every
   labelled face, masked or not, becoming a bare head (``face_heads``), as they are and rendered
   small like 3. bike-helmet holds 277 bare-headed people in train, and each stage trained longer
   on them lost bare-head AP on val (overfitting, ``models/README.md``): faces add distinct bare
   heads. A face box is not a head box; the head is drawn round it by fixed ratios, measured
   against the YOLOv12m helmet model's bare heads (trained on bike-helmet's own labelling) on
   face-mask train faces it boxes (see ``FACE_TO_HEAD``).
   Measured in ``models/README.md`` (stage 5): the model learnt to box every face in a crowd, which
   neither val set labels, and lost half its bare-head AP50; so it is off by default.
5. **gate-camera-id** train/val frames as they are (640x360: a ~21 px head stays ~21 px at the
   model's 640 input), with their own human-labelled two-wheelers (no teacher: the labels are
   better than its boxes). It holds 231 bare heads in train, four times gate-camera's, at the
   sizes a wide camera sees. ``--gate-id-copies N`` lists each train frame N times (links, same
   labels); ``--gate-camera-id ''`` leaves the set out (the build before stage 10).
6. **rider crops** (``--rider-crops``, off by default): each train two-wheeler's rider square of
   gate-camera (teacher two-wheelers) and gate-camera-id (labelled ones), cut and magnified exactly
   as ``detection.mode: riders`` serves it (``vision.detectors.motion.rider_square``: a 360p frame's
   rider at 3×, a 1080p one's at 1×). The served path shows the head stage these crops; the frames
   above show it 360p heads at 21 px and squares of 1080p frames, never a magnified, blurred rider.

Why these, measured on val in ``models/README.md``: letterboxing whole 1080p frames to 640
leaves heads at ~10 px, and the COCO start has seen few heads that small; close-ups alone
teach large heads only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from vision.config import Riders
from vision.detectors.motion import RIDER_MAX_MAGNIFICATION, rider_reach, rider_square
from vision.detectors.regions import Region, square_around
from vision.evaluation.voc import LabelledImage, load_voc, write_voc
from vision.training.synthesis import HEAD_CLASSES, PERSON_CONF, Labelled, Teacher, compose, with_teacher

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"
CROP = 640
MIN_VISIBLE = 0.6  # share of a box that must lie inside a crop for it to stay labelled
# A person's head and shoulders: the top share of its box, widened on each side (a head sticks out
# of a box drawn round a rider leaning forward).
BYSTANDER_TOP = 0.3
BYSTANDER_WIDEN = 0.15
# Face-mask photos whose every face is under this share of the image's height: street and market
# scenes as a camera sees them, not selfies (whose face boxes already hold much of the head).
MAX_FACE_SHARE = 0.2
# Head box round a face box, in face widths (each side) and heights (above, below): the medians
# over the face-mask train faces (under MAX_FACE_SHARE of the height) that the YOLOv12m helmet model
# (trained on bike-helmet's own labelling) boxes as a head, by
# `scripts/face_head_ratios.py --images 200 --max-face-share 0.2` (217 of 801 faces boxed; left
# 0.32 and right 0.29, above 0.69, below 0.15; quartiles 0.21-0.42, 0.57-0.84, 0.09-0.23). Hair
# and skull lie above a face; the chin ends the head.
FACE_TO_HEAD = (0.30, 0.69, 0.15)
FACE_CLASSES = ("with_mask", "without_mask", "mask_weared_incorrect")


def bystander_regions(item: Labelled) -> list[tuple[int, int, int, int]]:
    """xyxy pixel boxes of the heads and shoulders of ``item.people`` that hold no labelled head.

    A person holds a labelled head when the head's centre lies in the top 40 % of its box (widened
    by a fifth each side). Regions are clipped to the image.
    """
    height, width = item.image.shape[:2]
    heads = np.array(
        [box for box, label in zip(item.xyxy, item.labels, strict=True) if label in HEAD_CLASSES], np.float32
    ).reshape(-1, 4)
    centres_x, centres_y = (heads[:, 0] + heads[:, 2]) / 2, (heads[:, 1] + heads[:, 3]) / 2
    regions = []
    for x0, y0, x1, y1 in item.people:
        w, h = x1 - x0, y1 - y0
        inside = (
            (centres_x >= x0 - 0.2 * w)
            & (centres_x <= x1 + 0.2 * w)
            & (centres_y >= y0 - 0.1 * h)
            & (centres_y <= y0 + 0.4 * h)
        )
        if inside.any():
            continue
        regions.append(
            (
                max(0, int(x0 - BYSTANDER_WIDEN * w)),
                max(0, int(y0 - 0.05 * h)),
                min(width, int(np.ceil(x1 + BYSTANDER_WIDEN * w))),
                min(height, int(np.ceil(y0 + BYSTANDER_TOP * h))),
            )
        )
    return regions


def hide_bystanders(item: Labelled) -> tuple[Labelled, int]:
    """``item`` with each bystander's head and shoulders blurred (Gaussian, sigma a third of the
    region's width, at least 6 px); labelled heads keep their own pixels. Returns it and the count."""
    regions = bystander_regions(item)
    if not regions:
        return item, 0
    image = item.image.copy()
    for x0, y0, x1, y1 in regions:
        if x1 <= x0 or y1 <= y0:
            continue
        sigma = max(6.0, (x1 - x0) / 3)
        image[y0:y1, x0:x1] = cv2.GaussianBlur(image[y0:y1, x0:x1], (0, 0), sigmaX=sigma, sigmaY=sigma)
    for (x0, y0, x1, y1), label in zip(item.xyxy.astype(int), item.labels, strict=True):
        if label in HEAD_CLASSES:
            image[max(0, y0) : y1 + 1, max(0, x0) : x1 + 1] = item.image[max(0, y0) : y1 + 1, max(0, x0) : x1 + 1]
    return Labelled(image, item.xyxy, item.labels, item.people), len(regions)


def small_faces(item: LabelledImage) -> bool:
    """Has ``item`` faces, each under ``MAX_FACE_SHARE`` of its height (a scene, not a portrait)."""
    heights = item.xyxy[:, 3] - item.xyxy[:, 1]
    return bool(len(heights)) and bool((heights < MAX_FACE_SHARE * item.size[0]).all())


def face_heads(item: Labelled) -> Labelled:
    """``item`` (a face-mask photo) with each face box replaced by its head, labelled ``without_helmet``.

    Masked or not, a face in the open is a head without a helmet; boxes of other classes (the
    teacher's two-wheelers) are kept. Heads are clipped to the image.
    """
    height, width = item.image.shape[:2]
    side, top, bottom = FACE_TO_HEAD
    boxes = item.xyxy.copy()
    labels = list(item.labels)
    for i, label in enumerate(labels):
        if label not in FACE_CLASSES:
            continue
        x0, y0, x1, y1 = boxes[i]
        w, h = x1 - x0, y1 - y0
        boxes[i] = (
            max(0.0, x0 - side * w),
            max(0.0, y0 - top * h),
            min(width, x1 + side * w),
            min(height, y1 + bottom * h),
        )
        labels[i] = "without_helmet"
    return Labelled(item.image, boxes, labels, item.people)


def crop_labels(item: Labelled, region: Region) -> Labelled:
    """The part of ``item`` inside ``region``; boxes less than ``MIN_VISIBLE`` inside are dropped."""
    x0, y0, x1, y1 = region.xyxy
    boxes = item.xyxy
    clipped = np.stack(
        [
            np.clip(boxes[:, 0], x0, x1),
            np.clip(boxes[:, 1], y0, y1),
            np.clip(boxes[:, 2], x0, x1),
            np.clip(boxes[:, 3], y0, y1),
        ],
        axis=1,
    )
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    visible = (clipped[:, 2] - clipped[:, 0]) * (clipped[:, 3] - clipped[:, 1])
    keep = visible >= MIN_VISIBLE * np.maximum(area, 1e-6)
    shifted = clipped[keep] - np.array([x0, y0, x0, y0], np.float32)
    return Labelled(
        region.crop(item.image).copy(),
        shifted.astype(np.float32),
        [label for label, k in zip(item.labels, keep, strict=True) if k],
    )


def head_squares(item: Labelled, rng: np.random.Generator, jitter: int) -> list[Region]:
    """Squares that together hold every labelled head, each head well inside one (greedy)."""
    shape = item.image.shape[:2]
    heads = [box for box, label in zip(item.xyxy, item.labels, strict=True) if label in HEAD_CLASSES]
    squares: list[Region] = []
    for box in heads:
        if any(
            r.x + 16 <= box[0] and box[2] <= r.x + r.width - 16 and r.y + 16 <= box[1] and box[3] <= r.y + r.height - 16
            for r in squares
        ):
            continue
        dx, dy = rng.integers(-jitter, jitter + 1, size=2) if jitter else (0, 0)
        shifted = (box[0] + dx, box[1] + dy, box[2] + dx, box[3] + dy)
        region = square_around(shifted, CROP, shape)
        if not (
            region.x <= box[0]
            and box[2] <= region.x + region.width
            and region.y <= box[1]
            and box[3] <= region.y + region.height
        ):
            region = square_around(box, CROP, shape)
        squares.append(region)
    return squares


def empty_squares(item: Labelled, count: int, rng: np.random.Generator) -> list[Region]:
    """Up to ``count`` random squares that contain no labelled head."""
    height, width = item.image.shape[:2]
    heads = [box for box, label in zip(item.xyxy, item.labels, strict=True) if label in HEAD_CLASSES]
    found: list[Region] = []
    for _ in range(40):
        if len(found) >= count:
            break
        x, y = int(rng.integers(0, max(1, width - CROP))), int(rng.integers(0, max(1, height - CROP)))
        region = Region(x, y, min(CROP, width), min(CROP, height))
        if all(b[2] < x or b[0] > x + region.width or b[3] < y or b[1] > y + region.height for b in heads):
            found.append(region)
    return found


class Writer:
    """Writes images and VOC annotations into ``out`` and keeps the split lists and counts."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.images = out / "images"
        self.annotations = out / "annotations"
        self.images.mkdir(parents=True)
        self.splits: dict[str, list[str]] = {"train": [], "val": []}
        self.counts: dict[str, Counter[str]] = {}

    def add(self, split: str, kind: str, name: str, item: Labelled, source_image: Path | None = None) -> None:
        filename = f"{name}.jpg"
        if source_image is not None:  # an unchanged photo: link, not re-encode
            (self.images / filename).symlink_to(source_image.resolve())
        else:
            cv2.imwrite(str(self.images / filename), item.image, [cv2.IMWRITE_JPEG_QUALITY, 92])
        write_voc(self.annotations, name, filename, item.image.shape[:2], item.xyxy, item.labels)
        self.splits[split].append(name)
        self.counts.setdefault(f"{split}/{kind}", Counter())
        self.counts[f"{split}/{kind}"]["images"] += 1
        self.counts[f"{split}/{kind}"].update(item.labels)

    def finish(self, meta: dict[str, object]) -> dict[str, object]:
        for split, names in self.splits.items():
            (self.out / f"{split}.txt").write_text("".join(f"{n}\n" for n in names))
        summary = {**meta, "counts": {k: dict(v) for k, v in sorted(self.counts.items())}}
        (self.out / "dataset.json").write_text(json.dumps(summary, indent=1) + "\n")
        return summary


NATIVE_FRAME_HEIGHT = 1080  # models/helmet.yaml's native_frame_height: a rider crop's magnification is this / height


def rider_crops(item: Labelled, vehicle_classes: frozenset[str]) -> list[Labelled]:
    """Each labelled two-wheeler's rider square cut as ``detection.mode: riders`` serves it (its reach, rounded
    square, magnified by native_frame_height / frame height in [1, 3], at most 640) with its labels: the head
    stage learns crops as it will be shown them. Crops without a head are left out."""
    shape = item.image.shape[:2]
    vehicles = np.array([box for box, label in zip(item.xyxy, item.labels, strict=True) if label in vehicle_classes])
    if not len(vehicles):
        return []
    scale = min(RIDER_MAX_MAGNIFICATION, max(1.0, NATIVE_FRAME_HEIGHT / shape[0]))
    reach = rider_reach(vehicles.astype(np.float32), Riders())
    reach[:, [0, 2]] = reach[:, [0, 2]].clip(0, shape[1])
    reach[:, [1, 3]] = reach[:, [1, 3]].clip(0, shape[0])
    crops = []
    for box in reach:
        square = rider_square(box, shape, None, scale, CROP)
        cropped = crop_labels(item, square)
        if not any(label in HEAD_CLASSES for label in cropped.labels):
            continue
        size = square.input_size or CROP
        factor = size / max(square.width, square.height)
        image = cv2.resize(cropped.image, None, fx=factor, fy=factor, interpolation=cv2.INTER_LINEAR)
        crops.append(Labelled(image, (cropped.xyxy * factor).astype(np.float32), cropped.labels))
    return crops


def render_small_onto(
    writer: Writer,
    kind: str,
    photos: list[Labelled],
    frames: list[Labelled],
    rng: np.random.Generator,
    per_square: tuple[int, int],
    head_px: tuple[float, float],
) -> None:
    """Every photo shrunk (median head ``head_px``) and pasted, ``per_square`` to a 640 px square
    of a random gate ``frames`` frame free of labelled heads; written as train images ``kind``."""
    order = rng.permutation(len(photos))
    position, number = 0, 0
    prefix = kind.replace("-", "_")
    while position < len(order):
        take = int(rng.integers(per_square[0], per_square[1] + 1))
        group = [photos[i] for i in order[position : position + take]]
        position += take
        frame = frames[int(rng.integers(len(frames)))]
        spots = empty_squares(frame, 1, rng) or [Region(0, 0, CROP, CROP)]
        background = crop_labels(frame, spots[0])
        composed, _ = compose(background, group, rng.uniform(*head_px, size=len(group)), rng)
        writer.add("train", kind, f"{prefix}_{number:04d}", composed)
        number += 1


def build(
    out: Path,
    bike: Path,
    gate: Path,
    teacher: Teacher,
    seed: int = 0,
    empty_per_frame: int = 1,
    gate_passes: int = 2,
    hide: bool = False,
    rendered_per_square: tuple[int, int] = (2, 3),
    head_px: tuple[float, float] = (12.0, 32.0),
    faces: Path | None = None,
    face_images: int = 0,
    close_up_copies: int = 1,
    gate_id: Path | None = None,
    gate_id_copies: int = 1,
    rider_crop_sets: bool = False,
) -> dict[str, object]:
    if face_images and faces is None:
        raise SystemExit("--faces needs the face-mask dataset (--face-mask)")
    rng = np.random.default_rng(seed)
    if out.exists():
        shutil.rmtree(out)
    writer = Writer(out)
    bike_train = []
    for split in ("train", "val"):
        for item in load_voc(bike, f"{split}.txt"):
            labelled = with_teacher(item, teacher)
            writer.add(split, "bike-helmet", f"bike_{item.name}", labelled, source_image=item.image_path)
            if split == "train":
                bike_train.append(labelled)
                for copy in range(1, close_up_copies):  # more epochs' worth of close-ups, nothing else changed
                    name = f"bike_{item.name}_copy{copy}"
                    writer.add(split, "bike-helmet-copies", name, labelled, source_image=item.image_path)
    gate_train = []
    hidden = 0
    for split in ("train", "val"):
        for item in load_voc(gate, f"{split}.txt"):
            labelled = with_teacher(item, teacher)
            if split == "train":
                if hide:
                    labelled, count = hide_bystanders(labelled)
                    hidden += count
                gate_train.append(labelled)
            # Train: ``gate_passes`` differently shifted sets of squares per frame (the target camera
            # weighs as much as the close-ups); val: one unshifted set.
            squares = []
            for _ in range(gate_passes if split == "train" else 1):
                squares += head_squares(labelled, rng, 160 if split == "train" else 0)
                squares += empty_squares(labelled, empty_per_frame, rng)
            for number, region in enumerate(squares):
                writer.add(split, "gate-camera", f"gate_{item.name}_{number}", crop_labels(labelled, region))
    render_small_onto(writer, "rendered", bike_train, gate_train, rng, rendered_per_square, head_px)
    if gate_id is not None:
        # After the random draws above, so a build without it is unchanged. Its own two-wheeler
        # labels, no teacher.
        for split in ("train", "val"):
            for item in load_voc(gate_id, f"{split}.txt"):
                labelled = with_teacher(item, None)
                for copy in range(gate_id_copies if split == "train" else 1):
                    suffix = f"_copy{copy}" if copy else ""
                    writer.add(
                        split, "gate-camera-id", f"gateid_{item.name}{suffix}", labelled, source_image=item.image_path
                    )
    if rider_crop_sets:
        # Train only (val stays comparable with earlier builds), after every random draw above: the rest of
        # the build is unchanged. gate-camera's two-wheelers are the teacher's, gate-camera-id's its labels'.
        vehicles = frozenset({"two_wheeler"})
        sources = [("gate", gate_train)]
        if gate_id is not None:
            sources.append(("gateid", [with_teacher(item, None) for item in load_voc(gate_id, "train.txt")]))
        for prefix, items in sources:
            for number, labelled in enumerate(items):
                for index, crop in enumerate(rider_crops(labelled, vehicles)):
                    writer.add("train", "rider-crops", f"riders_{prefix}_{number:04d}_{index}", crop)
    faces_meta: dict[str, object] = {"images": 0}
    if face_images:
        # Its own random stream, drawn after everything above: a build without faces is unchanged.
        face_rng = np.random.default_rng((seed, 4))
        items = [item for item in load_voc(faces, "train.txt") if small_faces(item)]
        chosen = sorted(face_rng.choice(len(items), size=min(face_images, len(items)), replace=False).tolist())
        face_train = []
        for index in chosen:
            labelled = face_heads(with_teacher(items[index], teacher))
            writer.add("train", "faces", f"face_{items[index].name}", labelled, source_image=items[index].image_path)
            face_train.append(labelled)
        render_small_onto(writer, "rendered-faces", face_train, gate_train, face_rng, rendered_per_square, head_px)
        faces_meta = {
            "images": len(chosen),
            "face-mask": str(faces),
            "max_face_share": MAX_FACE_SHARE,
            "face_to_head": list(FACE_TO_HEAD),
        }
    return writer.finish(
        {
            "seed": seed,
            "bike-helmet": str(bike),
            "gate-camera": str(gate),
            "crop_px": CROP,
            "empty_squares_per_gate_frame": empty_per_frame,
            "gate_train_passes": gate_passes,
            "bystanders_hidden": {"enabled": hide, "people": hidden, "person_conf": PERSON_CONF},
            "rendered_photos_per_square": list(rendered_per_square),
            **({"faces": faces_meta} if face_images else {}),
            **({"close_up_copies": close_up_copies} if close_up_copies != 1 else {}),
            **({"gate-camera-id": str(gate_id), "gate_id_copies": gate_id_copies} if gate_id is not None else {}),
            **(
                {"rider_crops": {"native_frame_height": NATIVE_FRAME_HEIGHT, "riders": Riders().model_dump()}}
                if rider_crop_sets
                else {}
            ),
            "rendered_head_px": list(head_px),
            "teacher": {
                "file": "yolo11n-coco-int8-openvino/yolo11n.xml",
                "classes": "bicycle, motorcycle",
                "conf": teacher.conf,
            },
        }
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "helmet-wide")
    parser.add_argument("--bike-helmet", type=Path, default=SHARED / "bike-helmet")
    parser.add_argument("--gate-camera", type=Path, default=SHARED / "gate-camera")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--empty-per-frame", type=int, default=1, help="head-free gate squares per frame and pass")
    parser.add_argument("--gate-passes", type=int, default=2, help="shifted sets of gate squares per train frame")
    parser.add_argument(
        "--hide-bystanders",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="blur the heads of unlabelled people on gate-camera train frames (default: off)",
    )
    parser.add_argument(
        "--faces",
        type=int,
        default=0,
        metavar="N",
        help="add N face-mask train photos, faces as bare heads, as they are and rendered small (default: 0)",
    )
    parser.add_argument("--face-mask", type=Path, default=SHARED / "face-mask")
    parser.add_argument(
        "--close-up-copies",
        type=int,
        default=1,
        metavar="N",
        help="list each bike-helmet train photo N times (default: 1)",
    )
    parser.add_argument(
        "--gate-camera-id",
        type=Path,
        default=SHARED / "gate-camera-id",
        help="campus-gate frames with human-labelled two-wheelers ('' leaves them out)",
    )
    parser.add_argument(
        "--gate-id-copies",
        type=int,
        default=1,
        metavar="N",
        help="list each gate-camera-id train frame N times (default: 1)",
    )
    parser.add_argument(
        "--rider-crops",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="add each train two-wheeler's rider square, cut and magnified as riders-first detection serves it"
        " (gate-camera and gate-camera-id; default: off)",
    )
    args = parser.parse_args()
    if args.close_up_copies < 1 or args.gate_id_copies < 1:
        parser.error("--close-up-copies and --gate-id-copies must be at least 1")
    summary = build(
        args.out,
        args.bike_helmet,
        args.gate_camera,
        Teacher(),
        args.seed,
        args.empty_per_frame,
        args.gate_passes,
        args.hide_bystanders,
        faces=args.face_mask,
        face_images=args.faces,
        close_up_copies=args.close_up_copies,
        gate_id=args.gate_camera_id if str(args.gate_camera_id) not in ("", ".") else None,
        gate_id_copies=args.gate_id_copies,
        rider_crop_sets=args.rider_crops,
    )
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
