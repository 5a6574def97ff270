#!/usr/bin/env python3
"""A labelled VOC set at another resolution: every image resized to ``--width`` (aspect kept), boxes scaled.

Camera footage comes at 1080p and 720p; gate-camera is 1920×1080. Its val split at 1280×720 is
the check of a 720p camera (heads ~20 px instead of ~30), which ``vision eval`` then tiles as such
a camera's frames are tiled::

    .venv/bin/python scripts/resize_voc.py --voc ../shared/datasets/gate-camera --split val.txt \\
        --width 1280 --out build/gate-720p

INTER_AREA (what a camera's own scaler approximates), JPEG quality 92, labels as the source's.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2

from vision.evaluation.voc import load_voc, write_split, write_voc_image


def resize_voc(voc: Path, split: str | None, width: int, out: Path) -> int:
    """Write ``out`` (``images/``, ``annotations/``, the split file); return how many images."""
    items = load_voc(voc, split)
    for item in items:
        image = cv2.imread(str(item.image_path))
        if image is None:
            raise SystemExit(f"cannot read {item.image_path}")
        scale = width / image.shape[1]
        resized = cv2.resize(image, (width, round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        write_voc_image(out, item.name, resized, item.xyxy * scale, item.labels)
    write_split(out, split or "all.txt", [item.name for item in items])
    return len(items)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--voc", type=Path, required=True)
    parser.add_argument("--split", default="val.txt")
    parser.add_argument("--width", type=int, required=True, help="output width, px (height keeps the aspect)")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    count = resize_voc(args.voc, args.split, args.width, args.out)
    print(f"wrote {count} images at width {args.width} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
