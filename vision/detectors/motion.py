"""Where to look in each frame of one camera: motion regions, tracks kept in view, tiles, or the whole frame.

:class:`RegionPlanner` turns a camera's ``detection`` settings into the regions of each frame:

- ``whole``: one region, the frame (or its ``roi``), letterboxed as before;
- ``tiles``: overlapping squares over the frame (or ``roi``), every frame;
- ``motion``: squares over what moved (:class:`MotionDetector`) and over every confirmed track
  (a rider stopped at a red light does not move, yet stays covered while its track is open); the
  first frame, and any frame where more moves than tiles would cover, is tiled whole. A frame with
  no motion and no open track gets no region, and so costs no inference.

A frame that is tiled (every tile, or a moving area larger than a square) also gets the **whole
view** (``detection.whole_view``): the frame or ``roi`` letterboxed, its boxes kept only when at
least half as long as the tiles' overlap (:class:`~vision.detectors.regions.Region`
``min_box_px``). Tiles overlap by that much, so anything shorter lies whole in one of them; a
longer object (a rider close to the camera) may be cut by every tile it crosses, and the whole
view sees it whole, with its context.

The squares have the model's input size and are cut at native resolution (see
:mod:`vision.detectors.regions`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import cv2
import numpy as np
import numpy.typing as npt

from vision.config import Detection, Motion
from vision.detectors.base import Detector, Frame
from vision.detectors.detections import Detections
from vision.detectors.regions import Region, detect_regions, merge_groups, square_around, tile_regions

log = logging.getLogger(__name__)

# The region covering a motion box is this much larger than the box on each side, px of the frame:
# motion lags the object by up to a frame, and a head needs context to be recognised.
MOTION_PAD_PX = 24
# "auto" detects on regions when the frame (or roi) is at least this many region sizes wide: a
# 1280-px frame at a 640 model (heads halved by letterboxing), not a 640×480 one at a 416 model,
# where tiling would cost 4 calls for faces that letterboxing shrinks by a third only.
AUTO_WIDE_FACTOR = 2.0
# The whole view of a tiled frame keeps boxes at least this share of the tiles' overlap long (64 px
# at the default 128). Tiles hold anything up to the overlap whole, so 1.0 would add only what they
# may cut; half lets the view's context judge heads of 64-128 px too, which a 640 crop of a close
# rider shows without its body. Measured on gate-camera val, the near and the wide check (share 0,
# 0.5, 1): models/README.md, "The whole view".
WHOLE_VIEW_MIN_SHARE = 0.5


class MotionDetector:
    """Moving areas of a camera's frames: difference against a running background of a small grey copy.

    Lighting drifts and compression noise are absorbed by the running average (``background_alpha``)
    and a 5×5 blur; what differs by more than ``threshold`` grey levels, dilated so that one object
    is one blob, is motion.
    """

    def __init__(self, settings: Motion) -> None:
        self.settings = settings
        self._background: npt.NDArray[np.float32] | None = None
        self._scale = 1.0

    def moving_boxes(self, frame: Frame) -> npt.NDArray[np.float32] | None:
        """``(K, 4)`` xyxy boxes of moving areas in frame pixels; None on the first frame (no reference yet)."""
        height, width = frame.shape[:2]
        self._scale = width / self.settings.width
        small_h = max(1, round(height / self._scale))
        grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        grey = cv2.resize(grey, (self.settings.width, small_h), interpolation=cv2.INTER_AREA)
        grey = cv2.GaussianBlur(grey, (5, 5), 0)
        if self._background is None or self._background.shape != grey.shape:
            self._background = grey.astype(np.float32)
            return None
        diff = cv2.absdiff(grey, cv2.convertScaleAbs(self._background))
        cv2.accumulateWeighted(grey, self._background, self.settings.background_alpha)
        mask = (diff > self.settings.threshold).astype(np.uint8)
        mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=2)
        count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
        boxes = [
            (x, y, x + w, y + h)
            for x, y, w, h, area in stats[1:count]  # label 0 is the background
            if area >= self.settings.min_area
        ]
        return np.asarray(boxes, dtype=np.float32).reshape(-1, 4) * self._scale


def cover(
    boxes: npt.NDArray[np.float32],
    size: int,
    frame_shape: tuple[int, int],
    within: Region | None,
    overlap: int,
    chosen: Sequence[Region] = (),
) -> list[Region]:
    """``chosen`` followed by squares of ``size`` that together contain every box (greedy, largest box first).

    A box that fits in a square already chosen costs nothing; one larger than a square is tiled.
    """
    regions: list[Region] = list(chosen)
    order = np.argsort(-((boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])), kind="stable")
    for box in boxes[order]:
        x0, y0, x1, y1 = (float(v) for v in box)
        if any(r.x <= x0 and r.y <= y0 and x1 <= r.x + r.width and y1 <= r.y + r.height for r in regions):
            continue
        if x1 - x0 > size or y1 - y0 > size:
            span = Region(int(x0), int(y0), int(np.ceil(x1 - x0)), int(np.ceil(y1 - y0)))
            regions.extend(tile_regions(frame_shape, size, overlap, within=_intersect(span, within, frame_shape)))
        else:
            regions.append(square_around(box, size, frame_shape, within))
    return list(dict.fromkeys(regions))


def _intersect(region: Region, within: Region | None, frame_shape: tuple[int, int]) -> Region:
    height, width = frame_shape
    area = within or Region(0, 0, width, height)
    x0, y0 = max(region.x, area.x), max(region.y, area.y)
    x1 = min(region.x + region.width, area.x + area.width, width)
    y1 = min(region.y + region.height, area.y + area.height, height)
    return Region(x0, y0, max(0, x1 - x0), max(0, y1 - y0))


def region_side(input_size: int, frame_height: int, native_frame_height: int | None) -> int:
    """Side of a square, px of the frame: the model's input, or less for a frame below ``native_frame_height``.

    A model trained on tiles of 1080p frames knows heads at their 1080p size; a 720p stream of such a
    camera shows them at two thirds of it. Squares of ``input_size × 720 / 1080``, magnified to the
    input, show them at the learnt size again. The side is rounded up to a multiple of 32 (at least
    half the input): at 720p 448 rather than 416, 8 squares a frame instead of 12, for the same AP
    (measured on gate-camera val resized to 1280×720, ``models/README.md``, "720p cameras").
    """
    if native_frame_height is None or frame_height >= native_frame_height:
        return input_size
    scaled = math.ceil(input_size * frame_height / native_frame_height / 32) * 32
    return max(input_size // 2, scaled)


class RegionPlanner:
    """One camera's regions per frame, from its ``detection`` settings and its open tracks.

    ``region_size`` defaults to the model's input size, smaller for a frame below the model's
    ``native_frame_height`` (:func:`region_side`). ``mode`` ``auto`` is resolved on the first frame
    (motion for a frame two model inputs wide, whole otherwise) and kept: :attr:`mode` tells which.

    Work per frame is bounded by construction: tiles overlap by at most half their side (a step of
    at least half a square), and a frame never gets more than ``max_crops`` regions. A frame tiled
    whole that would need more is tiled with larger squares (shrunk to the model's input) until
    they fit (:attr:`coverage_size`); in ``motion`` mode squares on open tracks come first, then
    squares on motion, and those over the budget are left out and counted in :attr:`skipped`.
    """

    def __init__(
        self, settings: Detection, model_input_size: int | None, native_frame_height: int | None = None
    ) -> None:
        self.settings = settings
        self._input_size = settings.region_size or model_input_size or 640
        self._native_frame_height = None if settings.region_size else native_frame_height
        self.size = self._input_size  # the side of a native-resolution square; set per frame size by _setup
        self.coverage_size = self._input_size  # the side of the squares a frame tiled whole gets
        self.mode = settings.mode
        self.skipped = 0  # regions left out by max_crops since the start
        self._motion = MotionDetector(settings.motion)
        self._frame_shape: tuple[int, int] | None = None
        self._roi: Region | None = None
        self._overlap = 0
        self._tiles: list[Region] = []
        self._whole_view: list[Region] = []  # the frame (or roi) letterboxed, for objects tiles cut

    def overlap_for(self, size: int) -> int:
        """The tiles' overlap for squares of ``size``: ``tile_overlap``, at most half a square."""
        return min(self.settings.tile_overlap, size // 2)

    def _coverage(self, frame_shape: tuple[int, int], area: Region, size: int) -> tuple[list[Region], list[Region]]:
        """Tiles of ``size`` over the frame (or roi), and the whole view when there are several."""
        overlap = self.overlap_for(size)
        tiles = tile_regions(frame_shape, size, overlap, self._roi)
        whole_view = (
            [Region(area.x, area.y, area.width, area.height, min_box_px=overlap * WHOLE_VIEW_MIN_SHARE)]
            if self.settings.whole_view and len(tiles) > 1
            else []
        )
        return tiles, whole_view

    def _setup(self, frame_shape: tuple[int, int]) -> None:
        height, width = frame_shape
        self._frame_shape = frame_shape
        roi = self.settings.roi
        if roi is not None:
            x, y, w, h = roi
            if x >= width or y >= height:
                raise ValueError(f"detection.roi {list(roi)} lies outside the {width}×{height} frame")
            self._roi = Region(x, y, min(w, width - x), min(h, height - y))
        area = self._roi or Region(0, 0, width, height)
        if self.mode == "auto":
            wide = max(area.width, area.height) >= AUTO_WIDE_FACTOR * self._input_size
            self.mode = "motion" if wide else "whole"
        self.size = region_side(self._input_size, height, self._native_frame_height)
        self._overlap = self.overlap_for(self.size)
        size = self.size
        self._tiles, self._whole_view = self._coverage(frame_shape, area, size)
        native = len(self._tiles) + len(self._whole_view)
        longest = max(area.width, area.height)
        while len(self._tiles) + len(self._whole_view) > self.settings.max_crops and size < longest:
            size += 32  # larger squares, shrunk to the model input: coarser, but the whole frame is covered
            self._tiles, self._whole_view = self._coverage(frame_shape, area, size)
        self.coverage_size = size
        if size != self.size and self.mode != "whole":
            log.info(
                "%d squares of %d px exceed detection.max_crops %d: a frame tiled whole gets %d squares of %d px",
                native,
                self.size,
                self.settings.max_crops,
                len(self._tiles) + len(self._whole_view),
                size,
            )

    def plan(self, frame: Frame, track_boxes: npt.NDArray[np.float32] | None = None) -> list[Region]:
        """The regions to detect on in ``frame``; ``track_boxes (T, 4)`` are the camera's open confirmed tracks."""
        shape = frame.shape[:2]
        if self._frame_shape != shape:
            self._setup(shape)
        if self.mode == "whole":
            height, width = shape
            return [self._roi or Region(0, 0, width, height)]
        if self.mode == "tiles":
            return self._tiles + self._whole_view
        moving = self._motion.moving_boxes(frame)
        if moving is None:
            return self._tiles + self._whole_view
        tracks = np.zeros((0, 4), np.float32)
        if track_boxes is not None and len(track_boxes):
            widths = (track_boxes[:, 2] - track_boxes[:, 0]) * self.settings.track_margin
            heights = (track_boxes[:, 3] - track_boxes[:, 1]) * self.settings.track_margin
            grown = track_boxes + np.stack([-widths, -heights, widths, heights], axis=1)
            tracks = self._inside_roi(grown.astype(np.float32), shape)
        movers = self._inside_roi(_padded(moving, MOTION_PAD_PX), shape)
        if not len(tracks) and not len(movers):
            return []
        # Preference: squares on open tracks, then squares on what moved (those inside a track's
        # square cost nothing more).
        regions = cover(tracks, self.size, shape, self._roi, self._overlap)
        regions = cover(movers, self.size, shape, self._roi, self._overlap, chosen=regions)
        if len(regions) >= len(self._tiles) and self.coverage_size == self.size:
            return self._tiles + self._whole_view  # as many as tiling the frame at native resolution
        candidates = np.concatenate([tracks, movers])
        longest_side = np.maximum(candidates[:, 2] - candidates[:, 0], candidates[:, 3] - candidates[:, 1])
        whole_view = self._whole_view if (longest_side > self.size).any() else []
        budget = self.settings.max_crops - len(whole_view)
        if len(regions) > budget:
            self.skipped += len(regions) - budget
            regions = regions[:budget]
        return regions + whole_view

    def _inside_roi(self, boxes: npt.NDArray[np.float32], shape: tuple[int, int]) -> npt.NDArray[np.float32]:
        """Boxes clipped to the roi (or frame); boxes left empty are dropped."""
        height, width = shape
        area = self._roi or Region(0, 0, width, height)
        clipped = np.stack(
            [
                np.clip(boxes[:, 0], area.x, area.x + area.width),
                np.clip(boxes[:, 1], area.y, area.y + area.height),
                np.clip(boxes[:, 2], area.x, area.x + area.width),
                np.clip(boxes[:, 3], area.y, area.y + area.height),
            ],
            axis=1,
        )
        return clipped[(clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])]


def _padded(boxes: npt.NDArray[np.float32], pad: float) -> npt.NDArray[np.float32]:
    return boxes + np.array([-pad, -pad, pad, pad], dtype=np.float32)


def detect_still(detector: Detector, frame: Frame, settings: Detection) -> tuple[Detections, str]:
    """``frame`` detected as a camera with ``settings`` detects its first frame; and how: ``whole`` or ``tiles``.

    With ``auto`` a frame at least two model inputs wide is tiled at native resolution (with the
    whole view; ``motion`` tiles a first frame too) and a smaller one letterboxed whole: what
    ``vision eval`` scores and ``vision detect`` shows.
    """
    planner = RegionPlanner(settings, detector.info.input_size, detector.info.native_frame_height)
    regions = planner.plan(frame)
    found = detect_regions(detector, [frame], [regions], merge_groups(detector.info.class_names))[0]
    return found, "whole" if planner.mode == "whole" else "tiles"
