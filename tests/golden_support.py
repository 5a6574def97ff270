"""ultralytics' own detections on the committed helmet test images (``data/golden/helmet_ultralytics.json``)
as the reference any runtime of the helmet model is held to."""

import json
from pathlib import Path

import cv2
import numpy as np

from vision.detectors.base import Detector
from vision.detectors.boxes import box_iou

DATA = Path(__file__).resolve().parent / "data"


def helmet_golden() -> dict:
    return json.loads((DATA / "golden" / "helmet_ultralytics.json").read_text())


def assert_matches_helmet_golden(detector: Detector, box_px: float, score: float) -> None:
    """Same detections as ultralytics on every golden image: count, class, boxes within ``box_px``
    pixels, scores within ``score``."""
    images = DATA / "voc" / "helmet" / "images"
    for name, expected in helmet_golden()["images"].items():
        (detections,) = detector.detect([cv2.imread(str(images / name))])
        assert len(detections) == len(expected), name
        expected_xyxy = np.array([e["xyxy"] for e in expected], np.float32)
        pairs = box_iou(detections.xyxy, expected_xyxy).argmax(axis=1)
        assert sorted(pairs.tolist()) == list(range(len(expected))), name
        np.testing.assert_allclose(detections.xyxy, expected_xyxy[pairs], atol=box_px, err_msg=name)
        assert detections.labels == [expected[i]["class_name"] for i in pairs], name
        np.testing.assert_allclose(detections.scores, [expected[i]["score"] for i in pairs], atol=score)


def assert_batch_equals_single_frames(detector: Detector) -> None:
    """Two frames of one size detected in one call give what each gives alone."""
    image = cv2.imread(str(DATA / "voc" / "helmet" / "images" / "BikesHelmets16.jpg"))
    flipped = image[:, ::-1].copy()
    batched = detector.detect([image, flipped])
    for frame, result in zip([image, flipped], batched, strict=True):
        (single,) = detector.detect([frame])
        np.testing.assert_allclose(result.xyxy, single.xyxy, atol=1e-3)
        assert result.labels == single.labels
