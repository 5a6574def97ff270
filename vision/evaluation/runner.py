"""Run a detector over a labelled set and score it."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import NamedTuple

import cv2
from tqdm import tqdm

from vision.categories import vehicle_class_names
from vision.config import Detection, Riders
from vision.detectors import Detections, Detector, DetectorSpec, build_detector, load_spec
from vision.detectors.motion import detect_still
from vision.detectors.spec import WithAttributesSpec
from vision.errors import VisionError
from vision.evaluation.metrics import EvalReport, evaluate
from vision.evaluation.voc import LabelledImage
from vision.tracking.riders import riding_heads

# AP needs the whole precision-recall curve, so detections are kept down to this score; the
# spec's own threshold is still the operating point for precision and recall.
AP_SCORE_FLOOR = 0.001


class Predicted(NamedTuple):
    """:func:`predict_images`' answer: one entry per image, in order."""

    detections: list[Detections]
    ms: list[float]  # detect time per image (decode excluded)
    modes: list[str]  # how each image was detected: whole or tiles
    crops: list[int]  # detector crops (model calls) per image


def predict_images(
    detector: Detector,
    images: Sequence[LabelledImage],
    progress: bool = True,
    detection: Detection | None = None,
    vehicle_conf: float = 0.0,
) -> Predicted:
    """The detector's :class:`Detections` of each image, with its detect time and how it was detected.

    With ``detection`` (a camera's ``detection`` settings) each image is detected as the pipeline
    would detect the first frame of such a camera: the whole frame or its ``roi`` letterboxed, or
    tiles of it (``tiles``, and ``motion``/``auto`` on a wide frame, whose first frame is tiled), or
    the frame and then its riders (``riders``, on two-wheelers scoring ``vehicle_conf`` or more).
    Without them each image is letterboxed whole.
    """
    predicted = Predicted([], [], [], [])
    for image in tqdm(images, desc="eval", unit="img", disable=not progress, leave=False):
        frame = cv2.imread(str(image.image_path), cv2.IMREAD_COLOR)
        if frame is None:
            raise VisionError(f"cannot decode image {image.image_path}")
        start = time.perf_counter()
        if detection is None:
            mode, found, crops = "whole", detector.detect([frame])[0], 1
        else:
            # auto is resolved for this frame's size
            found, mode, crops = detect_still(detector, frame, detection, vehicle_conf=vehicle_conf)
        predicted.ms.append((time.perf_counter() - start) * 1000.0)
        predicted.detections.append(found)
        predicted.modes.append(mode)
        predicted.crops.append(crops)
    return predicted


def evaluate_spec(
    spec: DetectorSpec,
    images: Sequence[LabelledImage],
    progress: bool = True,
    measure_speed: bool = True,
    detection: Detection | None = None,
    riders: Riders | None = None,
) -> EvalReport:
    """Score ``spec`` on ``images``: AP from a pass at a low score floor, P/R at ``spec.conf``.

    ``ms_per_image`` is the median over a second pass at the operating threshold, since a low
    floor inflates the work after inference (NMS candidates, face crops to classify). Without
    ``measure_speed`` that pass is skipped and ``ms_per_image`` stays None. ``detection`` detects
    on regions as :func:`predict_images` says. With ``riders`` only heads that sit on a detected
    two-wheeler are scored (:func:`~vision.tracking.riders.riding_heads`, at the operating
    threshold for vehicles): the heads a ``riders_only`` camera counts, for labels that box riders
    alone; the speed stays that of the detector.

    A ``with_attributes`` spec is scored as its base (the labelled heads and vehicles, at the base's own
    thresholds), and timed whole, its attribute pass included; its attributes are measured on their own
    labels (``scripts/eval_phone.py``).
    """
    timed = spec
    if isinstance(spec, WithAttributesSpec):
        spec = load_spec(spec.base)
    class_conf = getattr(spec, "class_conf", {})
    floor = min(spec.conf, AP_SCORE_FLOOR, *class_conf.values())
    low = {"conf": floor, "class_conf": {}} if class_conf else {"conf": floor}
    detector = build_detector(spec.model_copy(update=low))
    if riders is not None and not set(detector.info.class_names) & vehicle_class_names():
        classes = ", ".join(detector.info.class_names)
        raise VisionError(f"riders only: {detector.info.name} boxes no vehicle ({classes})")
    vehicles = [name for name in detector.info.class_names if name in vehicle_class_names()]
    vehicle_conf = min((class_conf.get(name, spec.conf) for name in vehicles), default=spec.conf)
    predicted = predict_images(detector, images, progress, detection, vehicle_conf)
    predictions = predicted.detections
    if riders is not None:
        predictions = [riding_heads(found, riders, spec.conf) for found in predictions]
    report = evaluate(
        images,
        predictions,
        detector.info.class_names,
        spec.conf,
        spec.eval_aliases,
        outcomes=spec.outcomes or None,
        class_conf=class_conf or None,
    )
    if detection is not None:
        report = replace(report, tiled_images=sum(mode != "whole" for mode in predicted.modes))
    if not measure_speed:
        return replace(report, crops_per_image=statistics.fmean(predicted.crops))
    operating = build_detector(timed)
    predict_images(operating, images[:1], False, detection, vehicle_conf)  # warm-up: first-run allocations
    timed_pass = predict_images(operating, images, progress, detection, vehicle_conf)
    # Crops at the operating threshold: the rider squares follow the two-wheelers found there.
    return replace(
        report, ms_per_image=statistics.median(timed_pass.ms), crops_per_image=statistics.fmean(timed_pass.crops)
    )
