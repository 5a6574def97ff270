#!/usr/bin/env python3
"""Faces left recognisable in written evidence: a face detector at a low threshold on every JPEG.

For each ``*.snapshot.jpg`` under an evidence folder (``<folder>/<site>/<date>/<key>.snapshot.jpg``)
the judged person is found by the box drawn around it (``JUDGED_COLOUR``), and every face the
detector finds at ``--conf`` outside it counts as recognisable; for each ``*.crop.jpg`` every face
but one (the judged). Target: 0::

    .venv/bin/vision run configs/demo.yaml            # writes out/demo/vision.db.evidence
    .venv/bin/python scripts/privacy_check.py out/demo/vision.db.evidence
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from vision.evidence.capture import BLUR_GROWTH, JUDGED_COLOUR
from vision.evidence.privacy import FACE_CONF, face_detector, recognisable_faces

ROOT = Path(__file__).resolve().parents[1]


def judged_box(snapshot: np.ndarray) -> tuple[float, float, float, float] | None:
    """The judged person's box from the rectangle drawn around it (JPEG moves colours a little)."""
    colour = np.array(JUDGED_COLOUR, np.int16)
    close = (np.abs(snapshot.astype(np.int16) - colour) <= 40).all(axis=2)
    ys, xs = np.nonzero(close)
    if not len(xs):
        return None
    x1, y1, x2, y2 = float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())
    grow_x, grow_y = (x2 - x1) * BLUR_GROWTH, (y2 - y1) * BLUR_GROWTH
    return x1 - grow_x, y1 - grow_y, x2 + grow_x, y2 + grow_y


def check(folder: Path, conf: float, margin: float) -> dict[str, object]:
    detector = face_detector(ROOT / "models", conf)
    snapshots = sorted(folder.rglob("*.snapshot.jpg"))
    crops = sorted(folder.rglob("*.crop.jpg"))
    faces_in_snapshots, snapshots_with_faces, no_box = 0, [], 0
    for path in snapshots:
        image = cv2.imread(str(path))
        keep = judged_box(image)
        no_box += keep is None
        found = len(recognisable_faces(detector, image, keep))
        faces_in_snapshots += found
        if found:
            snapshots_with_faces.append(str(path.relative_to(folder)))
    faces_in_crops = 0
    inset = margin / (1 + 2 * margin)  # where the judged head lies in its crop (unless cut by the frame's edge)
    for path in crops:
        image = cv2.imread(str(path))
        height, width = image.shape[:2]
        judged = (width * inset, height * inset, width * (1 - inset), height * (1 - inset))
        for face in recognisable_faces(detector, image, None):
            cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2  # the judged face, found twice, is one
            faces_in_crops += not (judged[0] <= cx <= judged[2] and judged[1] <= cy <= judged[3])
    return {
        "folder": str(folder),
        "face_conf": conf,
        "snapshots": len(snapshots),
        "crops": len(crops),
        "faces_recognisable_in_snapshots": faces_in_snapshots,
        "faces_recognisable_in_crops": faces_in_crops,
        "snapshots_without_a_judged_box": no_box,
        "snapshots_with_faces": snapshots_with_faces[:20],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path, nargs="+", help="evidence folders")
    parser.add_argument("--conf", type=float, default=FACE_CONF, help="face detector threshold (low)")
    parser.add_argument("--crop-margin", type=float, default=0.3, help="evidence.crop_margin of the run")
    args = parser.parse_args()
    failed = False
    for folder in args.folder:
        if not any(folder.rglob("*.snapshot.jpg")):
            parser.error(f"{folder}: no evidence snapshots (*.snapshot.jpg) to check")
        result = check(folder, args.conf, args.crop_margin)
        print(json.dumps(result, indent=1))
        failed |= bool(result["faces_recognisable_in_snapshots"] or result["faces_recognisable_in_crops"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
