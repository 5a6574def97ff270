"""Drawing detections on frames, coloured by outcome."""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from vision.detectors.base import ModelInfo
from vision.detectors.detections import Detections
from vision.outcome import Outcome

OUTCOME_COLOURS_BGR = {
    Outcome.COMPLIANT: (60, 180, 60),
    Outcome.NON_COMPLIANT: (40, 40, 220),
    Outcome.UNDETERMINED: (160, 160, 160),
}
_FALLBACK_PALETTE = [(230, 160, 40), (40, 160, 230), (200, 80, 200), (80, 200, 200)]


def draw_detections(frame: npt.NDArray[np.uint8], detections: Detections, info: ModelInfo) -> npt.NDArray[np.uint8]:
    """A copy of ``frame`` with each box and its ``class score`` label drawn."""
    canvas = frame.copy()
    thickness = max(1, round(min(frame.shape[:2]) / 300))
    for box, score, class_id in zip(detections.xyxy, detections.scores, detections.class_ids, strict=True):
        name = detections.class_names[class_id]
        if info.outcomes:
            colour = OUTCOME_COLOURS_BGR[info.outcome_of(name)]
        else:
            colour = _FALLBACK_PALETTE[int(class_id) % len(_FALLBACK_PALETTE)]
        x1, y1, x2, y2 = (round(float(v)) for v in box)
        cv2.rectangle(canvas, (x1, y1), (x2, y2), colour, thickness, cv2.LINE_AA)
        label = f"{name} {score:.2f}"
        (text_w, text_h), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.4, 1)
        top = max(y1 - text_h - baseline - 2, 0)
        cv2.rectangle(canvas, (x1, top), (x1 + text_w + 2, top + text_h + baseline + 2), colour, -1)
        cv2.putText(
            canvas, label, (x1 + 1, top + text_h + 1), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (255, 255, 255), 1, cv2.LINE_AA
        )
    return canvas
