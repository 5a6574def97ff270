"""Detect on crops of a wide frame at native resolution, and map the boxes back.

A 1920×1080 CCTV frame letterboxed whole to 640 leaves a 30 px head at 10 px, below what a small
detector finds. Square crops the size of the model's input keep heads at their native size:

- :func:`tile_regions` covers a frame (or a fixed region of interest) with overlapping squares;
  a tiled frame also gets a **whole view** (the frame letterboxed, as SAHI's full-frame pass),
  which keeps only its larger boxes: a rider near the camera, with a 200 px head on a 700 px
  motorcycle, is cut by every square it crosses;
- :class:`MotionRegions` (``vision/detectors/motion.py``) proposes squares only where something
  moved, plus where a confirmed track still is;
- :func:`detect_regions` runs one detector batch over every frame's crops (the crops of several
  cameras share a batch) and :func:`merge_region_detections` maps them back to frame pixels and
  merges the duplicates that overlapping squares produce.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from vision.categories import vehicle_class_names
from vision.detectors.base import Detector, Frame
from vision.detectors.detections import Detections

# Two boxes of one merge group are one object when the intersection covers this share of the
# smaller box: a head cut by a crop's edge is a part of the same head seen whole in the next crop,
# which IoU alone would keep as two.
MERGE_IOS = 0.6
EDGE_PX = 2.0  # a box this close to a crop edge that is not the frame's edge is taken as cut


@dataclass(frozen=True)
class Region:
    """A crop of a frame in frame pixels: ``x, y`` top-left, ``width × height``.

    ``input_size``: a rider crop (``detection.mode: riders``) is run at its own scale times the
    camera's magnification rather than magnified to the model's input (``Detector.detect``).

    ``min_box_px``: boxes found in this crop whose longer side is shorter than this are dropped
    before merging. A whole view sets it to half the tiles' overlap: a small head is left to the
    tiles, which see it at native resolution, and the downscaled view adds what tiles may cut
    (``vision.detectors.motion.WHOLE_VIEW_MIN_SHARE``).
    """

    x: int
    y: int
    width: int
    height: int
    min_box_px: float = 0.0
    input_size: int | None = None  # the network input's long side for this crop; None: the model's own

    def crop(self, frame: Frame) -> Frame:
        """The ``(height, width, 3)`` view of ``frame`` (no copy)."""
        return frame[self.y : self.y + self.height, self.x : self.x + self.width]

    @property
    def xyxy(self) -> tuple[int, int, int, int]:
        return self.x, self.y, self.x + self.width, self.y + self.height


def _starts(length: int, size: int, overlap: int) -> list[int]:
    """Start offsets of windows of ``size`` covering ``[0, length)`` with at least ``overlap``."""
    if length <= size:
        return [0]
    step = size - overlap
    count = int(np.ceil((length - size) / step)) + 1
    # Spread the windows evenly so the last one ends at ``length`` exactly.
    return [round(i * (length - size) / (count - 1)) for i in range(count)]


def tile_regions(frame_shape: tuple[int, int], size: int, overlap: int, within: Region | None = None) -> list[Region]:
    """Squares of ``size`` px covering ``within`` (default the whole frame), overlapping by ``overlap`` px or more.

    ``frame_shape`` is ``(height, width)``. A side shorter than ``size`` gets one window of that
    side's length, so no region reaches outside the frame.
    """
    height, width = frame_shape
    area = within or Region(0, 0, width, height)
    x0, y0 = max(0, area.x), max(0, area.y)
    x1, y1 = min(width, area.x + area.width), min(height, area.y + area.height)
    if x1 <= x0 or y1 <= y0:
        return []
    if overlap >= size:
        raise ValueError(f"tile overlap {overlap} must be smaller than the tile size {size}")
    regions = []
    for top in _starts(y1 - y0, size, overlap):
        for left in _starts(x1 - x0, size, overlap):
            regions.append(Region(x0 + left, y0 + top, min(size, x1 - x0), min(size, y1 - y0)))
    return regions


def square_around(
    box: Sequence[float], size: int, frame_shape: tuple[int, int], within: Region | None = None
) -> Region:
    """A ``size`` square centred on ``box`` (xyxy), shifted to lie inside the frame (and ``within``)."""
    height, width = frame_shape
    area = within or Region(0, 0, width, height)
    lo_x, lo_y = max(0, area.x), max(0, area.y)
    hi_x, hi_y = min(width, area.x + area.width), min(height, area.y + area.height)
    side_w, side_h = min(size, hi_x - lo_x), min(size, hi_y - lo_y)
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    x = int(np.clip(round(cx - side_w / 2), lo_x, hi_x - side_w))
    y = int(np.clip(round(cy - side_h / 2), lo_y, hi_y - side_h))
    return Region(x, y, side_w, side_h)


def _cut_by_edge(xyxy: npt.NDArray[np.float32], region: Region, frame_shape: tuple[int, int]) -> npt.NDArray[np.bool_]:
    """``(N,)`` True where a box touches an edge of ``region`` that is not an edge of the frame."""
    height, width = frame_shape
    rx0, ry0, rx1, ry1 = region.xyxy
    cut = np.zeros(len(xyxy), dtype=bool)
    if rx0 > 0:
        cut |= xyxy[:, 0] <= rx0 + EDGE_PX
    if ry0 > 0:
        cut |= xyxy[:, 1] <= ry0 + EDGE_PX
    if rx1 < width:
        cut |= xyxy[:, 2] >= rx1 - EDGE_PX
    if ry1 < height:
        cut |= xyxy[:, 3] >= ry1 - EDGE_PX
    return cut


def merge_region_detections(
    parts: Sequence[tuple[Region, Detections]],
    frame_shape: tuple[int, int],
    class_groups: Sequence[int] | None = None,
    merge_ios: float = MERGE_IOS,
) -> Detections:
    """One frame's detections from its regions' detections (each in crop pixels).

    Boxes are shifted to frame pixels; then, best first (whole boxes before boxes cut by an inner
    crop edge, then by score), a box is dropped when a kept box of the same merge group covers
    ``merge_ios`` of the smaller of the two, and is of its class or was found in another region.
    ``class_groups[class_id]`` names the group: classes of one thing (a head with and without
    helmet) merge with each other across regions, a head never merges into the two-wheeler it
    rides. Default: one group per class.

    Within one region the detector's own class-aware NMS may have left a "with" and a "without"
    box on one head; both stay, as they do when a frame is detected whole, so a region's
    detections keep the second guess the detector made (the tracker keeps one box per head before
    voting, ``DUPLICATE_IOU``). Across regions the same head seen twice is one box whatever its
    class, or a head cut by a crop edge would count twice.
    """
    class_names = next((d.class_names for _, d in parts if d.class_names), ())
    boxes: list[npt.NDArray[np.float32]] = []
    scores: list[npt.NDArray[np.float32]] = []
    class_ids: list[npt.NDArray[np.int32]] = []
    cut: list[npt.NDArray[np.bool_]] = []
    sources: list[npt.NDArray[np.intp]] = []
    for number, (region, detections) in enumerate(parts):
        if region.min_box_px > 0 and len(detections):
            sides = np.maximum(
                detections.xyxy[:, 2] - detections.xyxy[:, 0], detections.xyxy[:, 3] - detections.xyxy[:, 1]
            )
            detections = detections[sides >= region.min_box_px]
        if not len(detections):
            continue
        shifted = detections.xyxy + np.array([region.x, region.y, region.x, region.y], dtype=np.float32)
        boxes.append(shifted)
        scores.append(detections.scores)
        class_ids.append(detections.class_ids)
        cut.append(_cut_by_edge(shifted, region, frame_shape))
        sources.append(np.full(len(detections), number, dtype=np.intp))
    if not boxes:
        return Detections.empty(class_names)
    xyxy, score = np.concatenate(boxes), np.concatenate(scores)
    cls, is_cut, source = np.concatenate(class_ids), np.concatenate(cut), np.concatenate(sources)
    groups = cls if class_groups is None else np.asarray(class_groups, dtype=np.int32)[cls]
    order = np.lexsort((-score, is_cut))
    areas = np.maximum((xyxy[:, 2] - xyxy[:, 0]) * (xyxy[:, 3] - xyxy[:, 1]), 1e-6)
    keep: list[int] = []
    suppressed = np.zeros(len(xyxy), dtype=bool)
    for index in order:
        if suppressed[index]:
            continue
        keep.append(int(index))
        rest = np.flatnonzero(
            ~suppressed & (groups == groups[index]) & ((cls == cls[index]) | (source != source[index]))
        )
        rest = rest[rest != index]
        if not rest.size:
            continue
        inter_w = np.clip(
            np.minimum(xyxy[index, 2], xyxy[rest, 2]) - np.maximum(xyxy[index, 0], xyxy[rest, 0]), 0, None
        )
        inter_h = np.clip(
            np.minimum(xyxy[index, 3], xyxy[rest, 3]) - np.maximum(xyxy[index, 1], xyxy[rest, 1]), 0, None
        )
        ios = inter_w * inter_h / np.minimum(areas[index], areas[rest])
        suppressed[rest[ios >= merge_ios]] = True
        suppressed[index] = True
    kept = np.asarray(keep, dtype=np.intp)
    kept = kept[np.argsort(-score[kept], kind="stable")]
    return Detections(xyxy=xyxy[kept], scores=score[kept], class_ids=cls[kept], class_names=class_names)


def merge_groups(class_names: Sequence[str]) -> list[int]:
    """Merge group per class: every verdict class is one group (one head), each vehicle class its own."""
    vehicles = vehicle_class_names()
    return [1 + index if name in vehicles else 0 for index, name in enumerate(class_names)]


def detect_parts(
    detector: Detector, frames: Sequence[Frame], regions: Sequence[Sequence[Region]], max_batch: int = 32
) -> list[list[tuple[Region, Detections]]]:
    """Every frame's regions detected, in as few batches as there are input sizes; each region's
    detections in crop pixels, per frame."""
    by_size: dict[int | None, list[tuple[int, Region]]] = {}
    for index, frame_regions in enumerate(regions):
        for region in frame_regions:
            by_size.setdefault(region.input_size, []).append((index, region))
    per_frame: list[list[tuple[Region, Detections]]] = [[] for _ in frames]
    for input_size, owners in by_size.items():
        crops = [region.crop(frames[index]) for index, region in owners]
        results: list[Detections] = []
        for start in range(0, len(crops), max_batch):  # bounds the input tensor: 32 crops of 640² are 157 MB
            results += detector.detect(crops[start : start + max_batch], input_size)
        for (index, region), detections in zip(owners, results, strict=True):
            per_frame[index].append((region, detections))
    return per_frame


def detect_regions(
    detector: Detector,
    frames: Sequence[Frame],
    regions: Sequence[Sequence[Region]],
    class_groups: Sequence[int] | None = None,
    max_batch: int = 32,
) -> list[Detections]:
    """Run ``detector`` on every frame's regions in one batch; one merged :class:`Detections` per frame.

    ``regions[i]`` are frame ``i``'s crops; a frame with no region gets empty detections and costs
    no inference.
    """
    per_frame = detect_parts(detector, frames, regions, max_batch)
    names = detector.info.class_names
    return [
        _one_frame(parts, frame.shape[:2], class_groups, names) for frame, parts in zip(frames, per_frame, strict=True)
    ]


def _one_frame(
    parts: list[tuple[Region, Detections]],
    frame_shape: tuple[int, int],
    class_groups: Sequence[int] | None,
    names: Sequence[str],
) -> Detections:
    """A frame's detections: empty without regions; one region's boxes shifted as they are (the
    detector's own NMS already ran: nothing overlaps to merge); several regions merged."""
    if not parts:
        return Detections.empty(names)
    if len(parts) == 1 and not parts[0][0].min_box_px:
        region, detections = parts[0]
        offset = np.array([region.x, region.y, region.x, region.y], dtype=np.float32)
        return Detections(detections.xyxy + offset, detections.scores, detections.class_ids, detections.class_names)
    return merge_region_detections(parts, frame_shape, class_groups)
