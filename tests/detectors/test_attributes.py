"""with_attributes specs: the base model's classes plus attributes found by a second model in rider squares.

The served helmet model stands in for the attribute model here (its head boxes, either class, as the attribute
``head_again``): a real model on a real frame, and no ../shared weights needed. The phone model itself runs in
tests/test_pipeline.py where it is built."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.config import Detection, Riders
from vision.detectors import build_detector
from vision.detectors.motion import RegionPlanner, detect_planned
from vision.detectors.regions import merge_groups
from vision.detectors.spec import WithAttributesSpec
from vision.errors import VisionError

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT / "models"


def spec(**changes) -> WithAttributesSpec:
    fields = {
        "base": MODELS / "helmet.yaml",
        "attribute_model": MODELS / "helmet-yolo11n.onnx",
        "attribute_classes": {"with_helmet": "head_again", "without_helmet": "head_again"},
        "attribute_conf": 0.2,
    }
    return WithAttributesSpec(**(fields | changes))


def first_frame(clip: str) -> np.ndarray:
    capture = cv2.VideoCapture(str(ROOT / "tests" / "data" / "clips" / clip))
    ok, frame = capture.read()
    capture.release()
    assert ok
    return frame


def test_the_class_list_is_the_base_model_s_and_then_the_attributes():
    detector = build_detector(spec())
    assert detector.info.class_names == ("with_helmet", "without_helmet", "two_wheeler", "head_again")
    assert detector.info.category is not None and detector.info.outcomes == {
        "with_helmet": "compliant",
        "without_helmet": "non_compliant",
    }


def test_an_attribute_class_the_model_lacks_is_named():
    with pytest.raises(VisionError, match=r"attribute_classes name classes the model lacks: \['cell phone'\]"):
        build_detector(spec(attribute_classes={"cell phone": "cell_phone"}))


def test_attributes_are_found_in_the_rider_squares_only_in_frame_pixels():
    """Riders first on a campus-gate frame: the base finds the scooter, then the heads in its square; the attribute
    model runs on the same square, and its boxes come back in frame pixels, inside that square, beside the base's
    own box of the same head."""
    detector = build_detector(spec())
    frame = first_frame("two-riders-pan.mp4")
    planner = RegionPlanner(Detection(mode="riders"), detector.info.input_size, None, Riders(), 0.25, True)
    plan = planner.plan(frame)
    (found,), (cost,) = detect_planned(detector, [frame], [planner], [plan], merge_groups(detector.info.class_names))
    attribute_id = detector.info.class_names.index("head_again")
    attributes = found[found.class_ids == attribute_id]
    heads = found[found.class_ids <= 1]
    assert len(attributes) >= 1 and len(heads) >= 1, found.to_records()
    squares = planner.rider_crops(found[found.class_ids == 2], frame.shape[:2])
    assert squares and cost == len(plan) + 2 * len(squares), "one base pass per region and square, one attribute pass"
    for box in attributes.xyxy:
        assert any(
            s.x <= box[0] and s.y <= box[1] and box[2] <= s.x + s.width and box[3] <= s.y + s.height for s in squares
        )
    # the same head seen twice by the same network: the attribute box lies on the base's head box
    best = max(float(np.max(np.minimum(box[2:], heads.xyxy[:, 2:]) - np.maximum(box[:2], heads.xyxy[:, :2])).clip(0)
                     ) for box in attributes.xyxy)  # fmt: skip
    assert best > 5


def test_the_base_pass_alone_boxes_no_attribute():
    detector = build_detector(spec())
    (found,) = detector.detect([first_frame("two-riders-pan.mp4")])
    assert "head_again" not in found.labels


def test_thresholds_and_outcomes_belong_to_the_base_spec():
    with pytest.raises(ValueError, match="conf: the base spec's"):
        spec(conf=0.3)


def test_vision_eval_scores_the_base_classes_as_the_base_spec_does():
    """The attribute classes are not in a helmet set's labels: a with_attributes spec scores as its base, at the
    base's own thresholds (a wrapper that ran the base at its operating score would lose the low-score half of
    the precision-recall curve), and is timed with its attribute pass."""
    from vision.detectors import load_spec
    from vision.evaluation.runner import evaluate_spec
    from vision.evaluation.voc import load_voc

    images = load_voc(ROOT / "tests" / "data" / "voc" / "wide")
    riders = Detection(mode="riders")
    base = evaluate_spec(load_spec(spec().base), images, progress=False, measure_speed=False, detection=riders)
    whole = evaluate_spec(spec(), images, progress=False, measure_speed=True, detection=riders)
    assert whole.classes == base.classes
    assert whole.ms_per_image is not None


def test_threads_given_to_the_spec_reach_its_base_model():
    """The pipeline gives each spec that sets none the threads of the models sharing the box: both sessions of a
    with_attributes spec get them."""
    detector = build_detector(spec(threads=1))
    assert detector._model.spec.threads == 1 and detector._base.spec.threads == 1
