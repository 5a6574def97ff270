"""Attributes (a phone) found by a second model in the rider crops of ``detection.mode: riders``.

:class:`AttributeDetector` is a :class:`~vision.detectors.base.Detector` with the base spec's classes plus the
attribute classes: ``detect`` is the base model's (subjects and vehicles), and :meth:`find_attributes` runs the
attribute model on the rider squares the planner cut for the heads (``detect_planned``), so a camera measuring
helmets and phone use decodes once, runs one head pass per region, and adds one attribute pass per rider square.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from vision.detectors.base import Detector, Frame, ModelInfo
from vision.detectors.detections import Detections
from vision.detectors.regions import Region, detect_parts
from vision.detectors.spec import WithAttributesSpec, YoloOnnxSpec
from vision.detectors.yolo_onnx import YoloOnnxDetector
from vision.errors import VisionError

MIN_INPUT_PX = 160


@runtime_checkable
class AttributeFinder(Protocol):
    """A detector that also finds attributes in given regions of frames."""

    def find_attributes(self, frames: Sequence[Frame], regions: Sequence[Sequence[Region]]) -> list[Detections]:
        """``regions[i]``: frame ``i``'s rider squares; one :class:`Detections` per frame, in frame pixels."""
        ...


class AttributeDetector:
    """The base detector's classes plus ``attribute_classes`` from a second YOLO model."""

    def __init__(self, spec: WithAttributesSpec, base: Detector) -> None:
        self.spec = spec
        self._base = base
        self._model = YoloOnnxDetector(
            YoloOnnxSpec(
                path=spec.attribute_model,
                conf=spec.attribute_conf,
                input_size=spec.attribute_input_size,
                threads=spec.threads,
                spin_wait=spec.spin_wait,
            )
        )
        model_names = self._model.info.class_names
        if unknown := sorted(set(spec.attribute_classes) - set(model_names)):
            raise VisionError(f"{spec.attribute_model}: attribute_classes name classes the model lacks: {unknown}")
        base_info = base.info
        wanted = spec.attribute_classes.values()
        added = tuple(dict.fromkeys(name for name in wanted if name not in base_info.class_names))
        names = base_info.class_names + added
        # attribute model class id -> class id in ``names``; -1: a class no category asks for
        self._class_map = np.full(len(model_names), -1, dtype=np.int32)
        for source, target in spec.attribute_classes.items():
            self._class_map[model_names.index(source)] = names.index(target)
        class_conf = {**(base_info.class_conf or {}), **dict.fromkeys(added, spec.attribute_conf)}
        self._info = dataclasses.replace(
            base_info, class_names=names, class_conf=class_conf if base_info.class_conf else None
        )

    @property
    def info(self) -> ModelInfo:
        return self._info

    def detect(self, frames: Sequence[Frame], input_size: int | None = None) -> list[Detections]:
        """The base model's detections (no attribute: those are looked for in rider squares only)."""
        names = self._info.class_names
        return [
            Detections(found.xyxy, found.scores, found.class_ids, names)
            for found in self._base.detect(frames, input_size)
        ]

    def _input_size(self, region: Region) -> int:
        side = max(region.width, region.height) * self.spec.attribute_scale
        return int(min(self.spec.attribute_input_size, max(MIN_INPUT_PX, math.ceil(side / 32) * 32)))

    def find_attributes(self, frames: Sequence[Frame], regions: Sequence[Sequence[Region]]) -> list[Detections]:
        names = self._info.class_names
        magnified = [[dataclasses.replace(r, input_size=self._input_size(r)) for r in rs] for rs in regions]
        found = []
        for frame_parts in detect_parts(self._model, frames, magnified):  # batched per input size, as head crops
            shifted = []
            for region, detections in frame_parts:
                class_ids = self._class_map[detections.class_ids]
                keep = class_ids >= 0
                offset = np.array([region.x, region.y, region.x, region.y], dtype=np.float32)
                shifted.append(
                    Detections(detections.xyxy[keep] + offset, detections.scores[keep], class_ids[keep], names)
                )
            found.append(Detections.concatenated(shifted, names))
        return found
