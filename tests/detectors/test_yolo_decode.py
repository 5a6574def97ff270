"""Decoding a raw ``(4 + nc, N)`` YOLO output: fixed inputs, fixed expected outputs."""

import numpy as np

from vision.detectors.yolo_onnx import decode_yolo_output


def raw_output(anchors: list[tuple[float, float, float, float, float, float]]) -> np.ndarray:
    """Anchors as ``(cx, cy, w, h, score_class0, score_class1)`` -> ``(6, N)`` like an export's output."""
    return np.asarray(anchors, dtype=np.float32).T.copy()


def test_decode_picks_best_class_thresholds_and_suppresses():
    prediction = raw_output(
        [
            (50, 50, 20, 20, 0.90, 0.10),  # kept: class 0
            (51, 50, 20, 20, 0.80, 0.05),  # same object, lower score: suppressed
            (51, 50, 20, 20, 0.10, 0.85),  # same place, other class: kept (class-aware NMS)
            (200, 100, 40, 10, 0.02, 0.30),  # kept: class 1
            (300, 300, 10, 10, 0.25, 0.20),  # exactly at conf 0.25: dropped (score must exceed conf)
        ]
    )
    xyxy, scores, class_ids = decode_yolo_output(prediction, conf=0.25, iou=0.7, max_detections=300)
    np.testing.assert_allclose(xyxy, [[40, 40, 60, 60], [41, 40, 61, 60], [180, 95, 220, 105]])
    np.testing.assert_allclose(scores, [0.90, 0.85, 0.30])
    assert class_ids.tolist() == [0, 1, 1]


def test_decode_respects_max_detections_and_empty_output():
    prediction = raw_output([(10.0 * i, 10, 5, 5, 0.5 + 0.01 * i, 0) for i in range(10)])
    _, scores, _ = decode_yolo_output(prediction, conf=0.25, iou=0.7, max_detections=3)
    np.testing.assert_allclose(scores, [0.59, 0.58, 0.57])
    xyxy, scores, class_ids = decode_yolo_output(prediction, conf=0.99, iou=0.7, max_detections=3)
    assert xyxy.shape == (0, 4) and scores.shape == (0,) and class_ids.shape == (0,)


def test_decode_applies_one_threshold_per_class():
    prediction = raw_output(
        [
            (50, 50, 20, 20, 0.30, 0.10),  # class 0 at 0.30: dropped by its 0.40 threshold
            (200, 50, 20, 20, 0.05, 0.20),  # class 1 at 0.20: kept by its 0.15 threshold
            (300, 50, 20, 20, 0.45, 0.10),  # class 0 at 0.45: kept
        ]
    )
    _, scores, class_ids = decode_yolo_output(prediction, conf=np.array([0.40, 0.15]), iou=0.7, max_detections=300)
    np.testing.assert_allclose(scores, [0.45, 0.20])
    assert class_ids.tolist() == [0, 1]


def test_decode_multi_label_keeps_each_class_above_its_threshold():
    prediction = raw_output(
        [
            (50, 50, 20, 20, 0.60, 0.35),  # both classes pass: two boxes on one anchor
            (51, 50, 20, 20, 0.50, 0.30),  # the same object again: suppressed within each class
            (200, 50, 20, 20, 0.05, 0.20),  # class 1 passes its 0.15 threshold only
            (300, 50, 20, 20, 0.38, 0.10),  # class 0 under its 0.40 threshold: dropped
        ]
    )
    thresholds = np.array([0.40, 0.15])
    xyxy, scores, class_ids = decode_yolo_output(prediction, thresholds, 0.7, 300, multi_label=True)
    np.testing.assert_allclose(scores, [0.60, 0.35, 0.20])
    assert class_ids.tolist() == [0, 1, 1]
    np.testing.assert_allclose(xyxy[:2], [[40, 40, 60, 60], [40, 40, 60, 60]])
    _, scores, class_ids = decode_yolo_output(prediction, thresholds, 0.7, 300)
    assert class_ids.tolist() == [0, 1]  # best class only: the first anchor's class-1 guess is gone
