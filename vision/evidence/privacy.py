"""Who is recognisable in evidence pixels: faces a face detector finds at a low threshold.

:func:`recognisable_faces` runs the face stage of ``models/mask-two-stage.yaml`` (Ultra-Light RFB,
MIT) at ``FACE_CONF`` on an image and returns the faces that lie outside a given box (the judged
person): what ``scripts/privacy_check.py`` counts over every written snapshot and crop, and what
the evidence tests assert is zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from vision.detectors import build_detector, load_spec
from vision.detectors.two_stage import TwoStageDetector

FACE_CONF = 0.3  # low: a face the detector is unsure of still counts as recognisable
MIN_OVERLAP = 0.3  # a face covering this share of itself inside the kept box is the judged person's


def face_detector(models_dir: Path, conf: float = FACE_CONF) -> TwoStageDetector:
    """The two-stage spec's face detector at ``conf`` (its classifier is not used here)."""
    spec = load_spec(models_dir / "mask-two-stage.yaml")
    detector = build_detector(spec.model_copy(update={"conf": conf}))
    assert isinstance(detector, TwoStageDetector)
    return detector


def recognisable_faces(
    detector: TwoStageDetector, image: npt.NDArray[np.uint8], keep: tuple[float, float, float, float] | None
) -> npt.NDArray[np.float32]:
    """``(K, 4)`` xyxy px of faces found in ``image`` outside ``keep`` (the judged person's box, or None)."""
    faces, _ = detector.detect_faces(image)
    if keep is None or not len(faces):
        return faces
    x1, y1, x2, y2 = keep
    inter_w = np.clip(np.minimum(faces[:, 2], x2) - np.maximum(faces[:, 0], x1), 0, None)
    inter_h = np.clip(np.minimum(faces[:, 3], y2) - np.maximum(faces[:, 1], y1), 0, None)
    areas = np.maximum((faces[:, 2] - faces[:, 0]) * (faces[:, 3] - faces[:, 1]), 1e-6)
    return faces[inter_w * inter_h / areas < MIN_OVERLAP]
