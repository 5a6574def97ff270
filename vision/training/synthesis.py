"""Training images made from labelled ones: the COCO teacher's two-wheeler labels, and photos rendered small.

``scripts/render_small.py`` (the wide-frame and near checks) and ``scripts/build_helmet_data.py``
(the helmet training set) share these pieces. The COCO teacher is the shared YOLO11n in
``../shared/weights`` (OpenVINO int8, as given), read at run time, never copied into the repository.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from vision.detectors.boxes import nms
from vision.detectors.detections import Detections
from vision.detectors.regions import detect_regions, tile_regions
from vision.errors import VisionError
from vision.evaluation.voc import LabelledImage

# ../shared beside the repository root (the editable install this package runs from).
WEIGHTS = Path(__file__).resolve().parents[2].parent / "shared" / "weights"
TEACHER_XML = WEIGHTS / "yolo11n-coco-int8-openvino" / "yolo11n.xml"
# COCO bicycle (1) and motorcycle (3) are both "two_wheeler" here: scooters and e-bikes get either.
TEACHER_CLASSES = {1: "bicycle", 3: "motorcycle"}
# Chosen on gate-camera train frames: moving motorcycles score 0.5-0.9; below 0.4 come riders'
# own bodies and fragments of parked bikes boxed as motorcycles.
TEACHER_CONF = 0.4
TEACHER_MIN_PX = 12  # shorter side of a two-wheeler box kept in the labels
TWO_WHEELER = "two_wheeler"
HEAD_CLASSES = ("with_helmet", "without_helmet")
TEACHER_TILE = 640
TEACHER_TILE_OVERLAP = 160
# COCO person (0) at this score or more: on gate-camera train frames, standing guards and walking
# pedestrians 80-300 px tall score 0.4-0.9; lower come posts, bags and riders' legs.
PERSON_CLASS = 0
PERSON_CONF = 0.35


class Teacher:
    """Two-wheeler boxes from the COCO YOLO11n (OpenVINO int8, 640×640, the shared file as it is).

    An image up to ``1.5 × 640`` on its long side is letterboxed whole; a wider one is tiled at
    native resolution (640 px squares, 160 px overlap) and the tiles' boxes merged, as the
    pipeline's region path does.
    """

    def __init__(self, xml: Path = TEACHER_XML, conf: float = TEACHER_CONF) -> None:
        from vision.detectors.spec import YoloOnnxSpec
        from vision.detectors.yolo_onnx import YoloOnnxDetector

        if not xml.is_file():
            raise VisionError(f"COCO teacher not found: {xml} (../shared/weights)")
        self.conf = conf
        self.detector = YoloOnnxDetector(YoloOnnxSpec(path=xml, runtime="openvino", conf=0.25, threads=2))

    def coco(self, image: npt.NDArray[np.uint8]) -> Detections:
        """Every COCO detection (score >= 0.25) in ``image``, boxes in its pixels."""
        height, width = image.shape[:2]
        if max(height, width) <= 1.5 * TEACHER_TILE:
            return self.detector.detect([image])[0]
        regions = tile_regions((height, width), TEACHER_TILE, TEACHER_TILE_OVERLAP)
        return detect_regions(self.detector, [image], [regions])[0]

    @staticmethod
    def people(detections: Detections) -> npt.NDArray[np.float32]:
        """``(P, 4)`` xyxy COCO person boxes (score >= ``PERSON_CONF``) among ``detections``."""
        keep = (detections.class_ids == PERSON_CLASS) & (detections.scores >= PERSON_CONF)
        return detections.xyxy[keep].astype(np.float32).reshape(-1, 4)

    def two_wheelers(
        self, image: npt.NDArray[np.uint8], detections: Detections | None = None
    ) -> npt.NDArray[np.float32]:
        """``(K, 4)`` xyxy two-wheeler boxes in ``image`` pixels (from ``detections`` when given)."""
        if detections is None:
            detections = self.coco(image)
        keep = np.isin(detections.class_ids, list(TEACHER_CLASSES)) & (detections.scores >= self.conf)
        boxes, scores = detections.xyxy[keep], detections.scores[keep]
        sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        boxes, scores = boxes[sides >= TEACHER_MIN_PX], scores[sides >= TEACHER_MIN_PX]
        # One vehicle boxed as both bicycle and motorcycle is one two-wheeler.
        return boxes[nms(boxes, scores, None, iou_threshold=0.6)]


@dataclass
class Labelled:
    """An image in memory with its boxes: ``xyxy (M, 4)`` float32 pixels and ``M`` labels.

    ``people`` ``(P, 4)``: the COCO teacher's person boxes, not labels (empty without a teacher).
    """

    image: npt.NDArray[np.uint8]
    xyxy: npt.NDArray[np.float32]
    labels: list[str]
    people: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, 4), np.float32))


def with_teacher(item: LabelledImage, teacher: Teacher | None) -> Labelled:
    """A VOC image read into memory, with the teacher's two-wheeler boxes added to its own labels.

    ``Labelled.people`` holds the teacher's person boxes (riders and bystanders alike).
    """
    image = cv2.imread(str(item.image_path))
    if image is None:
        raise VisionError(f"cannot read {item.image_path}")
    boxes, labels = item.xyxy.copy(), list(item.labels)
    people = np.zeros((0, 4), np.float32)
    if teacher is not None:
        detections = teacher.coco(image)
        vehicles = teacher.two_wheelers(image, detections)
        boxes = np.concatenate([boxes, vehicles]).astype(np.float32)
        labels += [TWO_WHEELER] * len(vehicles)
        people = teacher.people(detections)
    return Labelled(image, boxes.reshape(-1, 4), labels, people)


def median_head_px(item: Labelled) -> float | None:
    """√area of the median head box, or None when the image has no head."""
    heads = [i for i, label in enumerate(item.labels) if label in HEAD_CLASSES]
    if not heads:
        return None
    boxes = item.xyxy[heads]
    return float(np.median(np.sqrt((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))))


def rescale(
    item: Labelled, head_px: float, enlarge: bool = False, fit: tuple[int, int] | None = None
) -> Labelled | None:
    """``item`` scaled so that its median head is ``head_px``; None when it has no head.

    A photo is only shrunk unless ``enlarge``; ``fit`` ``(height, width)`` caps the scale so that
    the result is smaller than a canvas of that size.
    """
    median = median_head_px(item)
    if median is None:
        return None
    scale = head_px / median if enlarge else min(1.0, head_px / median)
    if fit is not None:
        height, width = item.image.shape[:2]
        scale = min(scale, (fit[0] - 2) / height, (fit[1] - 2) / width)
    interpolation = cv2.INTER_AREA if scale <= 1.0 else cv2.INTER_LINEAR
    image = cv2.resize(item.image, None, fx=scale, fy=scale, interpolation=interpolation)
    boxes = item.xyxy * scale
    sides = np.minimum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
    keep = sides >= 2.0  # a box shrunk below 2 px is no longer anything to find
    return Labelled(image, boxes[keep], [label for label, k in zip(item.labels, keep, strict=True) if k])


def paste(canvas: npt.NDArray[np.uint8], patch: npt.NDArray[np.uint8], x: int, y: int, feather: int = 3) -> None:
    """Blend ``patch`` into ``canvas`` at ``(x, y)`` in place, its border ramped over ``feather`` px."""
    h, w = patch.shape[:2]
    alpha = np.ones((h, w), np.float32)
    for i in range(min(feather, h // 2, w // 2)):
        a = (i + 1) / (feather + 1)
        alpha[i, :] = np.minimum(alpha[i, :], a)
        alpha[h - 1 - i, :] = np.minimum(alpha[h - 1 - i, :], a)
        alpha[:, i] = np.minimum(alpha[:, i], a)
        alpha[:, w - 1 - i] = np.minimum(alpha[:, w - 1 - i], a)
    region = canvas[y : y + h, x : x + w].astype(np.float32)
    blended = region * (1 - alpha[..., None]) + patch.astype(np.float32) * alpha[..., None]
    canvas[y : y + h, x : x + w] = np.clip(blended + 0.5, 0, 255).astype(np.uint8)


def place_free(
    occupied: list[tuple[int, int, int, int]], size: tuple[int, int], patch: tuple[int, int], rng: np.random.Generator
) -> tuple[int, int] | None:
    """A random top-left for a ``patch`` ``(h, w)`` in a canvas ``size`` ``(h, w)`` overlapping no occupied box."""
    height, width = size
    ph, pw = patch
    if ph >= height or pw >= width:
        return None
    for _ in range(50):
        x, y = int(rng.integers(0, width - pw)), int(rng.integers(0, height - ph))
        if all(x + pw <= a or a2 <= x or y + ph <= b or b2 <= y for a, b, a2, b2 in occupied):
            return x, y
    return None


def compose(
    background: Labelled,
    items: Sequence[Labelled],
    head_px: Sequence[float],
    rng: np.random.Generator,
    enlarge: bool = False,
) -> tuple[Labelled, int]:
    """Paste rescaled ``items`` onto a copy of ``background``; returns the frame and how many were placed.

    Each item is scaled to its ``head_px`` (only down, unless ``enlarge``: then as large as fits).

    A background label whose box centre a paste covers is dropped (the paste hides it).
    """
    canvas = background.image.copy()
    boxes, labels = [background.xyxy], list(background.labels)
    occupied: list[tuple[int, int, int, int]] = []
    placed = 0
    for item, px in zip(items, head_px, strict=True):
        small = rescale(item, px, enlarge, fit=canvas.shape[:2] if enlarge else None)
        if small is None:
            continue
        spot = place_free(occupied, canvas.shape[:2], small.image.shape[:2], rng)
        if spot is None:
            continue
        x, y = spot
        paste(canvas, small.image, x, y)
        h, w = small.image.shape[:2]
        occupied.append((x, y, x + w, y + h))
        boxes.append(small.xyxy + np.array([x, y, x, y], np.float32))
        labels += small.labels
        placed += 1
    xyxy = np.concatenate(boxes).astype(np.float32).reshape(-1, 4)
    cx, cy = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
    n_background = len(background.labels)
    hidden = np.zeros(len(xyxy), dtype=bool)
    for x0, y0, x1, y1 in occupied:
        covered = (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
        hidden[:n_background] |= covered[:n_background]
    keep = ~hidden
    return Labelled(canvas, xyxy[keep], [label for label, k in zip(labels, keep, strict=True) if k]), placed


def blurred(image: npt.NDArray[np.uint8], sigma: float) -> npt.NDArray[np.uint8]:
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma, sigmaY=sigma)
