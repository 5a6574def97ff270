"""Detector stage: frames in, :class:`Detections` out.

Backends are registered in :data:`BACKENDS` by their spec's ``type``; :func:`build_detector`
is the only constructor the rest of the code calls.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from vision.detectors.base import Category, Detector, Frame, ModelInfo
from vision.detectors.detections import Detections
from vision.detectors.spec import (
    DetectorSpec,
    TwoStageSpec,
    UltralyticsSpec,
    WithAttributesSpec,
    YoloOnnxSpec,
    load_spec,
)
from vision.errors import VisionError


def _yolo_onnx(spec: YoloOnnxSpec) -> Detector:
    from vision.detectors.yolo_onnx import YoloOnnxDetector

    return YoloOnnxDetector(spec)


def _ultralytics(spec: UltralyticsSpec) -> Detector:
    from vision.detectors.ultralytics_pt import UltralyticsDetector

    return UltralyticsDetector(spec)


def _two_stage(spec: TwoStageSpec) -> Detector:
    from vision.detectors.two_stage import TwoStageDetector

    return TwoStageDetector(spec)


def _with_attributes(spec: WithAttributesSpec) -> Detector:
    from vision.detectors.attributes import AttributeDetector

    base = load_spec(spec.base)
    # The runtime settings given to the whole spec (the pipeline sets threads from the models sharing the box)
    # reach its base too, unless the base sets its own.
    shared = {
        name: getattr(spec, name)
        for name in ("threads", "spin_wait")
        if name in spec.model_fields_set and name not in base.model_fields_set
    }
    return AttributeDetector(spec, build_detector(base.model_copy(update=shared)))


BACKENDS: dict[str, Callable[..., Detector]] = {
    "yolo_onnx": _yolo_onnx,
    "ultralytics": _ultralytics,
    "two_stage": _two_stage,
    "with_attributes": _with_attributes,
}


def build_detector(spec: DetectorSpec) -> Detector:
    """Construct the backend a spec names; weights not built yet are named with the command that builds them."""
    if spec.build and (missing := spec.missing_weights()):
        raise VisionError(f"model file not found: {missing[0]}; it is built on demand: {spec.build}")
    return BACKENDS[spec.type](spec)


def load_detector(model: str | Path) -> Detector:
    """A detector from a YAML spec or a bare ``.onnx`` / ``.pt`` path."""
    return build_detector(load_spec(model))


__all__ = [
    "BACKENDS",
    "Category",
    "Detections",
    "Detector",
    "DetectorSpec",
    "Frame",
    "ModelInfo",
    "build_detector",
    "load_detector",
    "load_spec",
]
