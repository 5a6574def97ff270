"""ultralytics ``.pt`` checkpoints, run by ultralytics itself.

Optional: for comparing against the ONNX path and for checkpoints not yet exported. It needs the
``[train]`` extra (ultralytics + torch), which the serving path never imports.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vision.detectors.base import Frame, ModelInfo
from vision.detectors.detections import Detections
from vision.detectors.spec import UltralyticsSpec
from vision.errors import VisionError


class UltralyticsDetector:
    """``ultralytics.YOLO(path).predict`` behind the :class:`~vision.detectors.base.Detector` protocol."""

    def __init__(self, spec: UltralyticsSpec) -> None:
        try:
            from ultralytics import YOLO
        except ImportError as error:
            raise VisionError(
                "the ultralytics backend (.pt models) needs the training extra: "
                "pip install -e '.[train]' (see README.md, 'Training extra')"
            ) from error
        if not spec.path.is_file():
            raise VisionError(f"model file not found: {spec.path}")
        self.spec = spec
        self._model = YOLO(str(spec.path), task="detect")
        names = self._model.names
        class_names = tuple(str(names[i]) for i in sorted(names))
        self._info = ModelInfo(
            name=spec.path.stem,
            class_names=class_names,
            category=spec.category,
            outcomes=dict(spec.outcomes),
            input_size=spec.input_size,
            conf=spec.conf,
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def detect(self, frames: Sequence[Frame], input_size: int | None = None) -> list[Detections]:
        if not frames:
            return []
        results = self._model.predict(
            list(frames),
            imgsz=input_size or self.spec.input_size,
            conf=self.spec.conf,
            iou=self.spec.iou,
            max_det=self.spec.max_detections,
            verbose=False,
        )
        return [
            Detections(
                xyxy=result.boxes.xyxy.cpu().numpy().astype(np.float32),
                scores=result.boxes.conf.cpu().numpy().astype(np.float32),
                class_ids=result.boxes.cls.cpu().numpy().astype(np.int32),
                class_names=self._info.class_names,
            )
            for result in results
        ]
