"""Tracker tests' common parts: a helmet model's info, a camera, detections written per frame, a clock."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np

from vision.config import Camera
from vision.detectors.base import Category, ModelInfo
from vision.detectors.detections import Detections
from vision.outcome import Outcome

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
FPS = 5.0

Box = tuple[float, float, float, float, float, int]


def helmet_info(name: str, classes: Sequence[str]) -> ModelInfo:
    """A helmet model with ``classes``: the first is compliant, the second non-compliant, any other neither."""
    return ModelInfo(
        name=name,
        class_names=tuple(classes),
        category=Category.HELMET,
        outcomes={classes[0]: Outcome.COMPLIANT, classes[1]: Outcome.NON_COMPLIANT},
    )


def helmet_camera(camera_id: str, site: str, **settings: Any) -> Camera:
    return Camera(id=camera_id, site=site, source="x.mp4", category="helmet", model="m.yaml", **settings)


def frame_of(classes: Sequence[str]) -> Callable[..., Detections]:
    """``frame(*boxes)``: one frame's :class:`Detections`, each box ``(x1, y1, x2, y2, score, class_id)``."""

    def frame(*boxes: Box) -> Detections:
        array = np.asarray(boxes, dtype=np.float32).reshape(-1, 6)
        return Detections(array[:, :4], array[:, 4], array[:, 5].astype(np.int32), tuple(classes))

    return frame
