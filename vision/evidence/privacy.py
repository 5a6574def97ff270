"""Who is recognisable in evidence pixels: faces a face detector finds at a low threshold, with detail.

:func:`recognisable_faces` runs the face stage of ``models/mask-two-stage.yaml`` (Ultra-Light RFB,
MIT) at ``FACE_CONF`` on an image and returns the faces that lie outside a given box (the judged
person) and still hold detail: what ``scripts/privacy_check.py`` counts over every written snapshot
and crop, and what the evidence tests assert is zero. At so low a threshold the detector also
fires on obscured, person-shaped blobs (on the demo's 305 snapshots: 76 such boxes, 270-320 px
wide, with a Laplacian variance of 11 at the median, against 400-3,000 for real faces of the mask
val photos), so a found face counts only if its pixels outside the kept box have a Laplacian
variance of ``MIN_DETAIL`` or more: a face that can be recognised has edges.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.detectors import build_detector, load_spec
from vision.detectors.two_stage import TwoStageDetector

FACE_CONF = 0.3  # low: a face the detector is unsure of still counts as recognisable
MIN_OVERLAP = 0.3  # a face covering this share of itself inside the kept box is the judged person's
MIN_DETAIL = 100.0  # Laplacian variance (8-bit grey) below which a found "face" is a blur, not a face
KEEP_BORDER_PX = 6  # the drawn box around the judged head is not a face's detail


def face_detector(models_dir: Path, conf: float = FACE_CONF) -> TwoStageDetector:
    """The two-stage spec's face detector at ``conf`` (its classifier is not used here)."""
    spec = load_spec(models_dir / "mask-two-stage.yaml")
    detector = build_detector(spec.model_copy(update={"conf": conf}))
    assert isinstance(detector, TwoStageDetector)
    return detector


def detail(
    image: npt.NDArray[np.uint8], box: npt.NDArray[np.float32], keep: tuple[float, float, float, float] | None
) -> float:
    """Laplacian variance of ``box``'s grey pixels, the kept box (and its drawn border) left out."""
    height, width = image.shape[:2]
    x1, y1 = max(0, int(box[0])), max(0, int(box[1]))
    x2, y2 = min(width, int(np.ceil(box[2]))), min(height, int(np.ceil(box[3])))
    if x2 - x1 < 3 or y2 - y1 < 3:
        return 0.0
    grey = cv2.cvtColor(image[y1:y2, x1:x2], cv2.COLOR_BGR2GRAY)
    edges = cv2.Laplacian(grey, cv2.CV_64F)
    mask = np.ones(edges.shape, dtype=bool)
    if keep is not None:
        kx1, ky1 = int(keep[0]) - KEEP_BORDER_PX - x1, int(keep[1]) - KEEP_BORDER_PX - y1
        kx2, ky2 = int(np.ceil(keep[2])) + KEEP_BORDER_PX - x1, int(np.ceil(keep[3])) + KEEP_BORDER_PX - y1
        mask[max(0, ky1) : max(0, ky2), max(0, kx1) : max(0, kx2)] = False
    return float(edges[mask].var()) if mask.sum() > 8 else 0.0


def recognisable_faces(
    detector: TwoStageDetector, image: npt.NDArray[np.uint8], keep: tuple[float, float, float, float] | None
) -> npt.NDArray[np.float32]:
    """``(K, 4)`` xyxy px of faces found in ``image`` outside ``keep`` (the judged person's box, or None)
    that still hold detail (``MIN_DETAIL``)."""
    faces, _ = detector.detect_faces(image)
    if keep is not None and len(faces):
        x1, y1, x2, y2 = keep
        inter_w = np.clip(np.minimum(faces[:, 2], x2) - np.maximum(faces[:, 0], x1), 0, None)
        inter_h = np.clip(np.minimum(faces[:, 3], y2) - np.maximum(faces[:, 1], y1), 0, None)
        areas = np.maximum((faces[:, 2] - faces[:, 0]) * (faces[:, 3] - faces[:, 1]), 1e-6)
        faces = faces[inter_w * inter_h / areas < MIN_OVERLAP]
    sharp = np.array([detail(image, face, keep) >= MIN_DETAIL for face in faces], dtype=bool)
    return faces[sharp] if len(faces) else faces
