#!/usr/bin/env python3
"""A crowded labelled VOC set: the images of a split laid out on a grid, several to a frame.

A school gate shows a few riders a frame; a city intersection at a red light, or a street photo,
shows twenty. No labelled set here is that crowded, so this builds one from real labelled frames:
``--grid 3 3 --cell 640 360`` puts nine consecutive 640×360 campus-gate frames (gate-camera-id,
about two riders each) side by side on one 1920×1080 frame, at native resolution, labels shifted::

    .venv/bin/python scripts/mosaic_voc.py --voc ../shared/datasets/gate-camera-id --split val.txt \\
        --grid 3 3 --cell 640 360 --out build/crowd-id
    .venv/bin/python scripts/mosaic_voc.py --voc ../shared/datasets/bike-helmet --split val.txt \\
        --grid 3 3 --cell 640 360 --out build/crowd-close

An image is shrunk (INTER_AREA, aspect kept, never enlarged) to fit its cell and centred on grey
(114, YOLO's letterbox value); the last frame is left partly grey when the split does not fill it.
The seams are unnatural; what the set measures is what a detection mode does with many riders a
frame (the riders mode's squares, their budget), not what a real crowd looks like. JPEG quality 92.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

from vision.evaluation.voc import load_voc, write_split, write_voc_image

GREY = 114


def mosaic_voc(voc: Path, split: str | None, grid: tuple[int, int], cell: tuple[int, int], out: Path) -> int:
    """Write ``out`` (``images/``, ``annotations/``, the split file); return how many frames.

    ``grid`` is ``(columns, rows)``, ``cell`` ``(width, height)`` px."""
    items = load_voc(voc, split)
    columns, rows = grid
    cell_w, cell_h = cell
    per_frame = columns * rows
    names: list[str] = []
    for start in range(0, len(items), per_frame):
        canvas = np.full((rows * cell_h, columns * cell_w, 3), GREY, np.uint8)
        boxes, labels = [], []
        for slot, item in enumerate(items[start : start + per_frame]):
            image = cv2.imread(str(item.image_path))
            if image is None:
                raise SystemExit(f"cannot read {item.image_path}")
            scale = min(1.0, cell_w / image.shape[1], cell_h / image.shape[0])
            if scale < 1.0:
                size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
                image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
            x0 = (slot % columns) * cell_w + (cell_w - image.shape[1]) // 2
            y0 = (slot // columns) * cell_h + (cell_h - image.shape[0]) // 2
            canvas[y0 : y0 + image.shape[0], x0 : x0 + image.shape[1]] = image
            boxes.append(item.xyxy * scale + np.array([x0, y0, x0, y0], np.float32))
            labels.extend(item.labels)
        names.append(f"mosaic-{start // per_frame:03d}")
        write_voc_image(out, names[-1], canvas, np.concatenate(boxes), labels)
    write_split(out, split or "all.txt", names)
    return len(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voc", type=Path, required=True)
    parser.add_argument("--split", default="val.txt")
    parser.add_argument("--grid", type=int, nargs=2, default=(3, 3), metavar=("COLUMNS", "ROWS"))
    parser.add_argument("--cell", type=int, nargs=2, default=(640, 360), metavar=("WIDTH", "HEIGHT"))
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    count = mosaic_voc(args.voc, args.split, tuple(args.grid), tuple(args.cell), args.out)
    print(f"wrote {count} frames of up to {args.grid[0] * args.grid[1]} images to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
