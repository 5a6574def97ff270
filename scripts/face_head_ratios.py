#!/usr/bin/env python3
"""How a head box sits round a face box: the ratios behind ``build_helmet_data.FACE_TO_HEAD``.

face-mask labels faces (brows to chin); the helmet model's ``without_helmet`` is a head (hair to
chin, ear to ear) as bike-helmet labels it. This runs a helmet model that learnt bike-helmet's
labelling (the YOLOv12m, by default) on face-mask train photos, takes each face that one of its
head boxes holds (the face's centre inside, and more than 70 % of the face's area, at most 6× the
face's area) and prints the medians and quartiles of how far the head reaches past the face, in
face widths (left, right) and heights (above, below)::

    .venv/bin/python scripts/face_head_ratios.py --images 200 --max-face-share 0.2
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.detectors import Detector, load_detector
from vision.evaluation.voc import LabelledImage, load_voc

ROOT = Path(__file__).resolve().parents[1]

MIN_FACE_SHARE = 0.7  # of the face's area inside the head box
MAX_AREA_RATIO = 6.0  # a box over 6 faces in area is a person or a group, not this face's head


def head_of_face(face: npt.NDArray[np.float32], heads: npt.NDArray[np.float32]) -> npt.NDArray[np.float32] | None:
    """The first of ``heads`` ``(K, 4)`` xyxy that holds ``face`` ``(4,)`` as a head holds its face."""
    fw, fh = face[2] - face[0], face[3] - face[1]
    cx, cy = (face[0] + face[2]) / 2, (face[1] + face[3]) / 2
    for head in heads:
        if not (head[0] <= cx <= head[2] and head[1] <= cy <= head[3]):
            continue
        inter = max(0.0, min(head[2], face[2]) - max(head[0], face[0])) * max(
            0.0, min(head[3], face[3]) - max(head[1], face[1])
        )
        if inter > MIN_FACE_SHARE * fw * fh and (head[2] - head[0]) * (head[3] - head[1]) < MAX_AREA_RATIO * fw * fh:
            return head
    return None


def reach(face: npt.NDArray[np.float32], head: npt.NDArray[np.float32]) -> tuple[float, float, float, float]:
    """How far ``head`` reaches past ``face``: left and right in face widths, above and below in heights."""
    fw, fh = face[2] - face[0], face[3] - face[1]
    return (face[0] - head[0]) / fw, (head[2] - face[2]) / fw, (face[1] - head[1]) / fh, (head[3] - face[3]) / fh


def face_reaches(
    detector: Detector, items: Sequence[LabelledImage], max_face_share: float = 1.0
) -> tuple[list[tuple[float, float, float, float]], int]:
    """:func:`reach` of every face of ``items`` that ``detector`` boxes as a head, and how many faces
    were looked at (those under ``max_face_share`` of their image's height)."""
    rows, faces = [], 0
    for item in items:
        image = cv2.imread(str(item.image_path))
        if image is None:
            raise SystemExit(f"cannot read {item.image_path}")
        heads = detector.detect([image])[0].xyxy
        for face in item.xyxy:
            if face[3] - face[1] >= max_face_share * image.shape[0]:
                continue
            faces += 1
            head = head_of_face(face, heads)
            if head is not None:
                rows.append(reach(face, head))
    return rows, faces


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "helmet-yolov12m.yaml")
    parser.add_argument("--face-mask", type=Path, default=ROOT.parent / "shared" / "datasets" / "face-mask")
    parser.add_argument("--images", type=int, default=200, help="the first N train photos")
    parser.add_argument("--max-face-share", type=float, default=1.0, help="only faces under this share of the height")
    args = parser.parse_args()
    items = load_voc(args.face_mask, "train.txt")[: args.images]
    rows, faces = face_reaches(load_detector(args.model), items, args.max_face_share)
    if not rows:
        raise SystemExit("no face was boxed as a head: nothing to measure")
    table = np.array(rows, dtype=np.float64)
    names = ("left", "right", "above", "below")
    summary = {
        "images": len(items),
        "faces": faces,
        "boxed": len(rows),
        "median": dict(zip(names, np.median(table, axis=0).round(3).tolist(), strict=True)),
        "p25": dict(zip(names, np.percentile(table, 25, axis=0).round(3).tolist(), strict=True)),
        "p75": dict(zip(names, np.percentile(table, 75, axis=0).round(3).tolist(), strict=True)),
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
