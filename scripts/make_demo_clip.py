#!/usr/bin/env python3
"""Build a demo clip and its ground truth from any labelled PASCAL VOC folder.

Each image is shown for ``--hold`` seconds on a grey canvas, drifting slowly (a pan, so that a
tracker sees motion), followed by ``--gap`` seconds of an empty canvas so that the people of one
image are never confused with the next. Every labelled box is one person; the ground truth counts
them by outcome, so ``vision run`` on the clip can be checked against it::

    python scripts/make_demo_clip.py --voc ../shared/datasets/bike-helmet --split val.txt \\
        --limit 40 --out configs/demo/helmet.mp4

writes ``helmet.mp4`` (H.264) and ``helmet.truth.json``. ``--exclude configs/demo/helmet.truth.json``
builds a second clip from the images the first does not show (the demo's held-out check). Classes
map to outcomes by name (``with_*`` compliant; ``without_*`` and ``mask_weared_incorrect``
non-compliant) unless ``--compliant`` / ``--non-compliant`` name them.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import av
import cv2
import numpy as np

from vision.categories import outcome_by_name
from vision.evaluation.voc import load_voc

CANVAS_GREY = 96


def place(image: np.ndarray, canvas_size: tuple[int, int], fill: float) -> tuple[np.ndarray, float]:
    """Scale ``image`` to fit ``fill`` of the canvas; returns the scaled image and its scale."""
    width, height = canvas_size
    scale = min(width * fill / image.shape[1], height * fill / image.shape[0])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
    return resized, scale


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voc", type=Path, required=True, help="VOC folder (images/ + annotations/)")
    parser.add_argument("--split", help="file of base names (e.g. val.txt); all annotations if omitted")
    parser.add_argument("--limit", type=int, help="use at most this many images (a seeded random sample)")
    parser.add_argument(
        "--exclude",
        type=Path,
        action="append",
        default=[],
        metavar="TRUTH_JSON",
        help="leave out the images another clip shows (its .truth.json): a second, disjoint check clip",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True, help="output .mp4; the truth goes beside it")
    parser.add_argument("--fps", type=int, default=10)
    parser.add_argument("--hold", type=float, default=2.0, help="seconds each image is shown")
    parser.add_argument("--gap", type=float, default=0.6, help="seconds of empty canvas between images")
    parser.add_argument("--size", default="640x480", help="canvas WIDTHxHEIGHT")
    parser.add_argument("--fill", type=float, default=0.9, help="image size as a fraction of the canvas")
    parser.add_argument("--pan", type=float, default=0.05, help="drift over one hold, fraction of the canvas")
    parser.add_argument("--crf", type=int, default=28, help="H.264 quality (lower is better and larger)")
    parser.add_argument("--compliant", nargs="*", help="class names that are compliant")
    parser.add_argument("--non-compliant", nargs="*", help="class names that are non-compliant")
    args = parser.parse_args()

    width, height = (int(v) for v in args.size.lower().split("x"))
    images = load_voc(args.voc, args.split)
    shown_elsewhere = {scene["name"] for path in args.exclude for scene in json.loads(path.read_text())["shown"]}
    images = [image for image in images if image.name not in shown_elsewhere]
    if not images:
        raise SystemExit(f"{args.voc}: no images left after --exclude")
    if args.limit and args.limit < len(images):
        images = sorted(random.Random(args.seed).sample(images, args.limit), key=lambda i: i.name)

    def outcome_of(name: str) -> str | None:
        if args.compliant is not None or args.non_compliant is not None:
            if name in (args.compliant or []):
                return "compliant"
            if name in (args.non_compliant or []):
                return "non_compliant"
            return None
        outcome = outcome_by_name(name)
        return outcome.value if outcome else None

    args.out.parent.mkdir(parents=True, exist_ok=True)
    container = av.open(str(args.out), mode="w")
    stream = container.add_stream("libx264", rate=args.fps)
    stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
    stream.options = {"crf": str(args.crf), "preset": "medium"}
    rng = random.Random(args.seed)
    hold_frames, gap_frames = round(args.hold * args.fps), round(args.gap * args.fps)
    per_class: Counter[str] = Counter()
    per_outcome: Counter[str] = Counter()
    shown = []
    frame_index = 0

    def write(canvas: np.ndarray) -> None:
        nonlocal frame_index
        frame = av.VideoFrame.from_ndarray(canvas[..., ::-1].copy(), format="rgb24")
        for packet in stream.encode(frame):
            container.mux(packet)
        frame_index += 1

    for image in images:
        pixels = cv2.imread(str(image.image_path), cv2.IMREAD_COLOR)
        if pixels is None:
            raise SystemExit(f"cannot decode {image.image_path}")
        placed, scale = place(pixels, (width, height), args.fill)
        free_x, free_y = width - placed.shape[1], height - placed.shape[0]
        direction = rng.choice([-1, 1])
        drift = args.pan * width * direction
        x0 = free_x / 2 - drift / 2
        start = frame_index / args.fps
        for step in range(hold_frames):
            x = round(float(np.clip(x0 + drift * step / max(1, hold_frames - 1), 0, free_x)))
            y = free_y // 2
            canvas = np.full((height, width, 3), CANVAS_GREY, np.uint8)
            canvas[y : y + placed.shape[0], x : x + placed.shape[1]] = placed
            write(canvas)
        for _ in range(gap_frames):
            write(np.full((height, width, 3), CANVAS_GREY, np.uint8))
        labels = [label for label in image.labels]
        per_class.update(labels)
        outcomes = [outcome_of(label) for label in labels]
        per_outcome.update(o or "unmapped" for o in outcomes)
        sides = (np.minimum(image.xyxy[:, 2] - image.xyxy[:, 0], image.xyxy[:, 3] - image.xyxy[:, 1]) * scale).round(1)
        shown.append(
            {"name": image.name, "start_s": round(start, 2), "labels": labels, "box_short_side_px": sides.tolist()}
        )
    for packet in stream.encode():
        container.mux(packet)
    container.close()

    compliant, non_compliant = per_outcome["compliant"], per_outcome["non_compliant"]
    truth = {
        "clip": args.out.name,
        "source": str(args.voc),
        "split": args.split,
        "images": len(images),
        "fps": args.fps,
        "frames": frame_index,
        "duration_s": round(frame_index / args.fps, 2),
        "counts": {"compliant": compliant, "non_compliant": non_compliant, "unmapped": per_outcome["unmapped"]},
        "rate": compliant / (compliant + non_compliant) if compliant + non_compliant else None,
        "per_class": dict(per_class),
        "shown": shown,
    }
    truth_path = args.out.with_suffix(".truth.json")
    truth_path.write_text(json.dumps(truth, indent=1))
    size_mb = args.out.stat().st_size / 1e6
    print(
        f"wrote {args.out} ({size_mb:.1f} MB, {frame_index} frames, {len(images)} images) and {truth_path}: "
        f"{compliant} compliant, {non_compliant} non-compliant, rate {truth['rate']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
