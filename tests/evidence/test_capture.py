"""Evidence pixels: crops and snapshots of real images, checked with a real face detector."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vision.detectors import build_detector, load_spec
from vision.evaluation.voc import parse_annotation
from vision.evidence.capture import capture

DATA = Path(__file__).resolve().parents[1] / "data" / "voc" / "mask"
MODELS = Path(__file__).resolve().parents[2] / "models"


def iou(a: np.ndarray, b: np.ndarray) -> float:
    x1, y1 = max(a[0], b[0]), max(a[1], b[1])
    x2, y2 = min(a[2], b[2]), min(a[3], b[3])
    inter = max(0.0, x2 - x1) * max(0.0, y2 - y1)
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


@pytest.fixture(scope="module")
def faces():
    """A market photo with six labelled faces, and the mask model that finds faces."""
    labelled = parse_annotation(DATA / "annotations" / "maksssksksss19.xml", DATA / "images")
    image = cv2.imread(str(labelled.image_path))
    boxes = labelled.xyxy
    return image, boxes, build_detector(load_spec(MODELS / "mask-yolo.yaml"))


def found(detector, image: np.ndarray, boxes: np.ndarray) -> list[int]:
    """Which of ``boxes`` the detector finds a face on (IoU >= 0.3)."""
    (detections,) = detector.detect([image])
    return [i for i, box in enumerate(boxes) if any(iou(box, d) >= 0.3 for d in detections.xyxy)]


def test_only_the_judged_face_stays_recognisable(faces):
    image, boxes, detector = faces
    recognisable = found(detector, image, boxes)
    assert len(recognisable) >= 4, "the model should find most faces of the original"
    judged = recognisable[0]
    evidence = capture(image, boxes, judged, 0.9, margin=0.3, snapshot_width=image.shape[1], blur_judged=False)
    assert set(found(detector, evidence.snapshot, boxes)) <= {judged}
    x1, y1, x2, y2 = boxes[judged].astype(int)
    assert (evidence.snapshot[y1 + 1 : y2 - 1, x1 + 1 : x2 - 1] == image[y1 + 1 : y2 - 1, x1 + 1 : x2 - 1]).all(), (
        "the judged face is kept as it is"
    )
    # Their detail is gone, not just dimmed: the Laplacian's variance drops by far.
    for i, box in enumerate(boxes.astype(int)):
        original = cv2.Laplacian(cv2.cvtColor(image[box[1] : box[3], box[0] : box[2]], cv2.COLOR_BGR2GRAY), cv2.CV_64F)
        kept = evidence.snapshot[box[1] : box[3], box[0] : box[2]]
        after = cv2.Laplacian(cv2.cvtColor(kept, cv2.COLOR_BGR2GRAY), cv2.CV_64F)
        if i != judged:
            assert after.var() < 0.2 * original.var()


def test_no_face_but_the_judged_one_is_found_even_unlabelled(faces):
    """Every face a face detector finds at a low threshold, labelled or not, except the judged one."""
    from vision.evidence.privacy import face_detector, recognisable_faces

    image, boxes, _ = faces
    finder = face_detector(MODELS)
    assert len(recognisable_faces(finder, image, None)) >= 4, "the original shows several faces"
    for judged in range(len(boxes)):
        evidence = capture(image, boxes, judged, 0.9, margin=0.3, snapshot_width=image.shape[1], blur_judged=False)
        x1, y1, x2, y2 = boxes[judged]
        grow_x, grow_y = (x2 - x1) * 0.25, (y2 - y1) * 0.25
        keep = (x1 - grow_x, y1 - grow_y, x2 + grow_x, y2 + grow_y)
        assert len(recognisable_faces(finder, evidence.snapshot, keep)) == 0, judged
        assert len(recognisable_faces(finder, evidence.crop, None)) <= 1, "the crop: the judged face at most"


def test_masks_blur_the_judged_face_too_and_the_crop_has_its_margin(faces):
    image, boxes, detector = faces
    judged = found(detector, image, boxes)[0]
    evidence = capture(image, boxes, judged, 0.9, margin=0.3, snapshot_width=image.shape[1], blur_judged=True)
    assert found(detector, evidence.snapshot, boxes) == []
    x1, y1, x2, y2 = boxes[judged]
    height, width = evidence.crop.shape[:2]
    assert width == pytest.approx(min(image.shape[1], x2 + 0.3 * (x2 - x1)) - max(0, x1 - 0.3 * (x2 - x1)), abs=2)
    assert height >= y2 - y1


def test_the_snapshot_is_downscaled_to_its_width(faces):
    image, boxes, _ = faces
    evidence = capture(image, boxes, 0, 0.5, margin=0.2, snapshot_width=200, blur_judged=False)
    assert evidence.snapshot.shape[1] == 200
    assert evidence.snapshot.shape[0] == round(image.shape[0] * 200 / image.shape[1])
