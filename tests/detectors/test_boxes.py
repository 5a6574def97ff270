import numpy as np
import pytest

from vision.detectors.boxes import LetterboxTransform, box_iou, letterbox, letterbox_shape, nms, xywh_to_xyxy


@pytest.mark.parametrize(
    ("frame_shape", "size", "rect", "expected"),
    [
        ((234, 400), 640, True, (384, 640)),  # 234 * 1.6 = 374.4 -> 374, padded to 384
        ((400, 301), 640, True, (640, 512)),  # 301 * 1.6 = 481.6 -> 482, padded to 512
        ((480, 640), 640, True, (480, 640)),  # already a stride multiple
        ((234, 400), 320, True, (192, 320)),
        ((234, 400), 640, False, (640, 640)),
    ],
)
def test_letterbox_shape(frame_shape, size, rect, expected):
    assert letterbox_shape(frame_shape, size, stride=32, rect=rect) == expected


def test_letterbox_pads_centred_and_maps_boxes_back():
    frame = np.full((234, 400, 3), 200, np.uint8)
    padded, transform = letterbox(frame, (384, 640))
    assert padded.shape == (384, 640, 3)
    # 384 - 374 = 10 rows of padding: 5 on top, 5 at the bottom, grey 114.
    assert transform == LetterboxTransform(gain_x=640 / 400, gain_y=374 / 234, pad_x=0, pad_y=5)
    assert (padded[:5] == 114).all() and (padded[-5:] == 114).all() and (padded[5:-5] == 200).all()
    box_in_input = np.array([[160.0, 5 + 50 * 374 / 234, 320.0, 5 + 100 * 374 / 234]], np.float32)
    np.testing.assert_allclose(transform.to_frame(box_in_input, (234, 400)), [[100, 50, 200, 100]], atol=1e-4)


def test_letterbox_odd_padding_puts_the_extra_pixel_at_the_bottom():
    _, transform = letterbox(np.zeros((100, 200, 3), np.uint8), (111, 200))
    assert transform.pad_y == 5  # 11 rows: 5 on top, 6 at the bottom, as ultralytics splits them


def test_to_frame_clips_to_the_frame():
    transform = LetterboxTransform(gain_x=1.0, gain_y=1.0, pad_x=0, pad_y=0)
    boxes = np.array([[-5.0, -5.0, 50.0, 500.0]], np.float32)
    np.testing.assert_array_equal(transform.to_frame(boxes, (100, 40)), [[0, 0, 40, 100]])


def test_xywh_to_xyxy():
    np.testing.assert_array_equal(xywh_to_xyxy(np.array([[10, 20, 4, 6]], np.float32)), [[8, 17, 12, 23]])


def test_box_iou_hand_computed():
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 2]], np.float32)
    b = np.array([[5, 0, 15, 10], [20, 20, 30, 30], [0, 0, 10, 10]], np.float32)
    expected = [[50 / 150, 0, 1], [0, 0, 4 / 100]]
    np.testing.assert_allclose(box_iou(a, b), expected)


def test_box_iou_degenerate_boxes_are_zero_not_nan():
    assert box_iou(np.zeros((1, 4)), np.zeros((1, 4)))[0, 0] == 0.0


BOXES = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [20, 20, 30, 30], [0, 0, 10, 10], [0, 0, 10, 9]], np.float32)
SCORES = np.array([0.9, 0.8, 0.7, 0.95, 0.6], np.float32)


@pytest.mark.parametrize(
    ("class_ids", "iou", "max_detections", "expected"),
    [
        (None, 0.5, 300, [3, 2]),  # 3 beats its exact copy 0, its neighbour 1 (IoU 0.68) and 4 (0.9)
        (np.array([0, 0, 0, 1, 0]), 0.5, 300, [3, 0, 2]),  # class-aware: 0 and 3 differ in class
        (None, 0.95, 300, [3, 1, 2, 4]),  # only the exact copy 0 is above 0.95
        (None, 0.95, 2, [3, 1]),
        (None, 1.0, 300, [3, 0, 1, 2, 4]),  # suppression needs IoU strictly above the threshold
    ],
)
def test_nms_fixed_cases(class_ids, iou, max_detections, expected):
    assert nms(BOXES, SCORES, class_ids, iou, max_detections).tolist() == expected


def test_nms_empty():
    assert nms(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), None, 0.5).tolist() == []


def test_the_docstring_examples_hold():
    import doctest

    from vision.detectors import boxes

    result = doctest.testmod(boxes)
    assert result.attempted >= 1 and result.failed == 0
