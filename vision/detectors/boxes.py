"""Box geometry shared by the backends: letterbox, IoU and class-aware NMS, in numpy.

The letterbox and the box rescaling follow ultralytics (``LetterBox`` and ``scale_boxes``) to the
pixel, so that an ultralytics ONNX export served here gives the boxes ultralytics itself gives.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

PAD_VALUE = 114  # ultralytics' grey


@dataclass(frozen=True)
class LetterboxTransform:
    """How a frame was placed in the network input: ``input_x = frame_x * gain_x + pad_x`` (same for y).

    The gains are the actual resize ratios per axis (the resized size is rounded to whole pixels,
    so they differ slightly, as in ultralytics' ``scale_boxes``); ``pad_x``/``pad_y`` are the
    left/top padding in input pixels.
    """

    gain_x: float
    gain_y: float
    pad_x: int
    pad_y: int

    def to_frame(self, xyxy: npt.NDArray[np.float32], frame_shape: tuple[int, int]) -> npt.NDArray[np.float32]:
        """Map ``(N, 4)`` input-pixel boxes back to frame pixels, clipped to ``frame_shape`` ``(h, w)``."""
        boxes = xyxy.astype(np.float32, copy=True)
        boxes[:, [0, 2]] = (boxes[:, [0, 2]] - self.pad_x) / self.gain_x
        boxes[:, [1, 3]] = (boxes[:, [1, 3]] - self.pad_y) / self.gain_y
        height, width = frame_shape
        boxes[:, [0, 2]] = np.clip(boxes[:, [0, 2]], 0, width)
        boxes[:, [1, 3]] = np.clip(boxes[:, [1, 3]], 0, height)
        return boxes


def letterbox_shape(frame_shape: tuple[int, int], size: int, stride: int, rect: bool) -> tuple[int, int]:
    """Network input ``(h, w)`` for a frame of ``frame_shape`` ``(h, w)`` at long side ``size``.

    With ``rect`` the short side is padded only up to a multiple of ``stride`` (what ultralytics does
    for a model of dynamic shape); without it the input is ``size × size``.
    """
    if not rect:
        return size, size
    height, width = frame_shape
    gain = min(size / height, size / width)
    new_h, new_w = round(height * gain), round(width * gain)
    return new_h + (size - new_h) % stride, new_w + (size - new_w) % stride


def letterbox(
    frame: npt.NDArray[np.uint8], input_shape: tuple[int, int]
) -> tuple[npt.NDArray[np.uint8], LetterboxTransform]:
    """Resize ``frame`` ``(h, w, 3)`` keeping its aspect ratio and pad it, centred, to ``input_shape``.

    Returns the ``(H, W, 3)`` padded image and the transform to map boxes back.
    """
    height, width = frame.shape[:2]
    target_h, target_w = input_shape
    gain = min(target_h / height, target_w / width)
    new_w, new_h = round(width * gain), round(height * gain)
    pad_w, pad_h = (target_w - new_w) / 2, (target_h - new_h) / 2
    resized = (
        frame
        if (new_w, new_h) == (width, height)
        else cv2.resize(frame, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
    )
    # The ±0.1 splits an odd padding as ultralytics does (one pixel more at the bottom/right).
    top, bottom = round(pad_h - 0.1), round(pad_h + 0.1)
    left, right = round(pad_w - 0.1), round(pad_w + 0.1)
    padded = cv2.copyMakeBorder(
        resized, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE, PAD_VALUE, PAD_VALUE)
    )
    return padded, LetterboxTransform(gain_x=new_w / width, gain_y=new_h / height, pad_x=left, pad_y=top)


def xywh_to_xyxy(xywh: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """``(N, 4)`` centre-size boxes to corner boxes."""
    xyxy = np.empty_like(xywh)
    half_w, half_h = xywh[:, 2] / 2, xywh[:, 3] / 2
    xyxy[:, 0] = xywh[:, 0] - half_w
    xyxy[:, 1] = xywh[:, 1] - half_h
    xyxy[:, 2] = xywh[:, 0] + half_w
    xyxy[:, 3] = xywh[:, 1] + half_h
    return xyxy


def box_iou(boxes_a: npt.NDArray[np.floating], boxes_b: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Pairwise IoU of ``(N, 4)`` and ``(M, 4)`` xyxy boxes, as an ``(N, M)`` matrix.

    >>> box_iou(np.array([[0, 0, 2, 2]]), np.array([[1, 1, 3, 3]])).round(4).tolist()
    [[0.1429]]
    """
    a = np.asarray(boxes_a, dtype=np.float64)[:, None, :]
    b = np.asarray(boxes_b, dtype=np.float64)[None, :, :]
    inter_w = np.clip(np.minimum(a[..., 2], b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    inter_h = np.clip(np.minimum(a[..., 3], b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = inter_w * inter_h
    area_a = (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1])
    area_b = (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1])
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def nms(
    xyxy: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    class_ids: npt.NDArray[np.int32] | None,
    iou_threshold: float,
    max_detections: int = 300,
) -> npt.NDArray[np.intp]:
    """Greedy non-maximum suppression; with ``class_ids`` boxes only suppress boxes of their class.

    Returns indices into the inputs, highest score first, at most ``max_detections`` of them.
    A box is suppressed when its IoU with a kept box is strictly above ``iou_threshold``.
    """
    order = np.argsort(-scores, kind="stable")
    boxes = xyxy.astype(np.float64)
    if class_ids is not None and len(boxes):
        # Shifting each class far apart keeps classes from overlapping: one NMS pass does all.
        boxes = boxes + (class_ids.astype(np.float64) * (boxes.max() + 1.0))[:, None]
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    keep: list[int] = []
    while order.size and len(keep) < max_detections:
        best = order[0]
        keep.append(int(best))
        rest = order[1:]
        inter_w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        inter_h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        inter = inter_w * inter_h
        iou = inter / np.maximum(areas[best] + areas[rest] - inter, 1e-12)
        order = rest[iou <= iou_threshold]
    return np.asarray(keep, dtype=np.intp)
