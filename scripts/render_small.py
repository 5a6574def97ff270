#!/usr/bin/env python3
"""Small, far heads from close-up photos: render labelled images small onto wide camera frames.

The `bike-helmet` photos show riders close up (heads 50-400 px); a fixed CCTV camera sees them at
12-30 px in a 1920×1080 frame. This script shrinks each labelled photo so that its median head is
``--head-px`` (uniform in 12-30 by default), pastes it onto a wide frame (feathered edges, no
overlap between pastes) and writes a PASCAL VOC folder that ``vision eval`` reads::

    .venv/bin/python scripts/render_small.py --voc ../shared/datasets/bike-helmet --split val.txt \\
        --backgrounds ../shared/datasets/gate-camera --background-split val.txt --out build/wide-check

That is the **wide-frame check**: far-camera AP50 from labelled close-ups. Its backgrounds are
gate-camera val frames blurred with a Gaussian of sigma ``--blur`` (25 px): road, kerb and light
stay, while the guards and riders in them (whose heads are not labelled there as a whole) are
smeared far past recognition, so every head in a check frame is a labelled, rendered one.

The **near check** is the other end of a wide camera's depth: riders close to it, heads of
100-250 px and two-wheelers wider than a tile, which tiles at native resolution cut::

    .venv/bin/python scripts/render_small.py --voc ../shared/datasets/bike-helmet --split val.txt \
        --backgrounds ../shared/datasets/gate-camera --background-split val.txt --out build/near-check \
        --head-px 100 250 --per-frame 1 --enlarge

(``--enlarge`` scales a photo up, bilinear, as far as the frame holds it.)

Two-wheelers are labelled by the **COCO teacher** (``vision.training.synthesis.Teacher``: the shared
COCO YOLO11n, classes bicycle and motorcycle, score >= ``TEACHER_CONF``) on each photo before it is
shrunk; the box is the vehicle alone, as COCO draws it (the rider is a separate COCO person, so a rider's head lies
above the box or at its top edge, not inside it). ``scripts/build_helmet_data.py`` uses the same
pieces for the training set.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from vision.evaluation.voc import load_voc, write_split, write_voc_image
from vision.training.synthesis import (
    HEAD_CLASSES,
    TEACHER_CONF,
    TEACHER_XML,
    Labelled,
    Teacher,
    blurred,
    compose,
    with_teacher,
)


def make_wide_check(
    voc: Path,
    split: str,
    backgrounds: Path,
    background_split: str,
    out: Path,
    per_frame: int = 4,
    head_px: tuple[float, float] = (12.0, 30.0),
    blur: float = 25.0,
    seed: int = 0,
    teacher: Teacher | None = None,
    enlarge: bool = False,
) -> dict[str, object]:
    """Write the wide-frame check VOC folder; return its counts (also written to ``out/check.json``).

    ``enlarge`` lets ``head_px`` exceed a photo's own heads (the near check: riders close to a wide
    camera, larger than a tile's overlap).
    """
    rng = np.random.default_rng(seed)
    items = load_voc(voc, split)
    frames = load_voc(backgrounds, background_split)
    names, counts, heads = [], Counter(), []
    for start in range(0, len(items), per_frame):
        group = [with_teacher(item, teacher) for item in items[start : start + per_frame]]
        background_item = frames[(start // per_frame) % len(frames)]
        plain = cv2.imread(str(background_item.image_path))
        background = Labelled(blurred(plain, blur), np.zeros((0, 4), np.float32), [])
        sizes = rng.uniform(*head_px, size=len(group))
        frame, _ = compose(background, group, sizes, rng, enlarge)
        name = f"wide_{start // per_frame:03d}"
        write_voc_image(out, name, frame.image, frame.xyxy, frame.labels)
        names.append(name)
        counts.update(frame.labels)
        for box, label in zip(frame.xyxy, frame.labels, strict=True):
            if label in HEAD_CLASSES:
                heads.append(float(np.sqrt((box[2] - box[0]) * (box[3] - box[1]))))
    write_split(out, "val.txt", names)
    summary = {
        "frames": len(names),
        "boxes": dict(counts),
        "head_px_median": round(float(np.median(heads)), 1) if heads else None,
        "head_px_p10_p90": [round(float(np.percentile(heads, q)), 1) for q in (10, 90)] if heads else None,
        "source": f"{voc} {split}",
        "backgrounds": f"{backgrounds} {background_split}, Gaussian blur sigma {blur}",
        "seed": seed,
        "enlarged": enlarge,
        "teacher": f"{TEACHER_XML.name} conf {TEACHER_CONF}" if teacher else None,
    }
    (out / "check.json").write_text(json.dumps(summary, indent=1) + "\n")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voc", type=Path, required=True, help="labelled close-ups (bike-helmet)")
    parser.add_argument("--split", default="val.txt")
    parser.add_argument("--backgrounds", type=Path, required=True, help="VOC folder of wide frames (gate-camera)")
    parser.add_argument("--background-split", default="val.txt")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--per-frame", type=int, default=4, help="photos rendered onto each frame")
    parser.add_argument("--head-px", type=float, nargs=2, default=(12.0, 30.0), metavar=("MIN", "MAX"))
    parser.add_argument("--blur", type=float, default=25.0, help="Gaussian sigma applied to the backgrounds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-teacher", action="store_true", help="heads only (no two_wheeler labels)")
    parser.add_argument("--enlarge", action="store_true", help="scale photos up too when --head-px asks (near check)")
    args = parser.parse_args()
    teacher = None if args.no_teacher else Teacher()
    summary = make_wide_check(
        args.voc,
        args.split,
        args.backgrounds,
        args.background_split,
        args.out,
        args.per_frame,
        tuple(args.head_px),
        args.blur,
        args.seed,
        teacher,
        args.enlarge,
    )
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
