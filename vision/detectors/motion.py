"""Where to look in each frame of one camera: motion regions, tracks kept in view, tiles, or the whole frame.

:class:`RegionPlanner` turns a camera's ``detection`` settings into the regions of each frame:

- ``whole``: one region, the frame (or its ``roi``), letterboxed as before;
- ``tiles``: overlapping squares over the frame (or ``roi``), every frame;
- ``riders``: the frame (or its ``roi``) letterboxed, where two-wheelers are large enough to find;
  then, in a second call, one square per rider (:meth:`RegionPlanner.rider_crops`: the vehicle box
  widened and raised by the camera's ``riders`` margins) cut at native resolution and run at its
  own size times the magnification, so a 15 px head is seen at 30 px at a cost of a small crop,
  not a 640 px tile (:func:`detect_planned`). Frames where nothing moved cost nothing, as in
  ``motion``;
- ``motion``: squares over what moved (:class:`MotionDetector`) and, while anything moves, over
  every confirmed track (a rider stopped at a red light while others pass stays covered); the
  first frame, and any frame where more moves than tiles would cover, is tiled whole.

A frame where **nothing moved** (``riders`` and ``motion``) gets no region and costs no inference;
:attr:`RegionPlanner.still` says so, and the caller then holds the camera's open tracks as they
are (the same frame again would give the same boxes) instead of feeding the tracker an empty
frame. A gate with parked two-wheelers or a waiting rider costs decoding and motion only until
something moves. Until the tracker has settled what it saw (``unsettled``: a detection not yet in
a confirmed track, or a head with too few frames for a verdict) a still frame is looked at
anyway, for up to :data:`STILL_LOOK_FRAMES` frames in a row: someone standing still from the
first frame is still counted, and a borderline detection that flickers with the sensor noise does
not keep a parked scene looked at for ever.

Motion is found by :meth:`RegionPlanner.analyse`, which a source calls on its own reader thread
for each frame it delivers, so the detector thread only reads the result; a frame that was not
analysed (``vision detect``, ``vision eval``) is analysed when it is planned.

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
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from vision.categories import vehicle_class_names
from vision.config import Detection, Motion, Riders
from vision.detectors.attributes import AttributeFinder
from vision.detectors.base import Detector, Frame
from vision.detectors.boxes import box_iou
from vision.detectors.detections import Detections
from vision.detectors.regions import (
    Region,
    detect_parts,
    detect_regions,
    merge_groups,
    merge_region_detections,
    square_around,
    tile_regions,
)

log = logging.getLogger(__name__)

# The region covering a motion box is this much larger than the box on each side, px of the frame:
# motion lags the object by up to a frame, and a head needs context to be recognised.
MOTION_PAD_PX = 24
# "auto" detects on regions when the frame (or roi) is at least this many region sizes wide: a
# 1280-px frame at a 640 model (heads halved by letterboxing), not a 640×480 one at a 416 model,
# where tiling would cost 4 calls for faces that letterboxing shrinks by a third only.
AUTO_WIDE_FACTOR = 2.0
# A rider crop is at least this long, px of the frame (a far rider's head needs some context), and
# its input at least this many px (below it the network's coarsest stride sees a few cells).
RIDER_MIN_SIDE_PX = 96
RIDER_MIN_INPUT_PX = 160
# A rider crop of a frame below the model's native_frame_height is enlarged by native / frame height,
# up to this: heads at the size the model learnt. Measured on gate-camera-id val (360p, ratio 3):
# bare-head AP50 0.624 / 0.633 / 0.696 / 0.726 at 1 / 1.5 / 2 / 3 (models/README.md, "Riders").
RIDER_MAX_MAGNIFICATION = 3.0
# riders mode letterboxes a frame at least this many model inputs long (800 px for 640) to that size for its
# first pass: a 1080p frame shrunk 2.4× instead of 3× shows far and crowded two-wheelers
# large enough to be found, and each found one gets its rider square. Measured against 1.0, 1.15, 1.4 and 1.5
# on gate-camera val at 1080p and 720p and on a crowded mosaic of the campus gate (models/README.md, "Crowded
# frames, and a larger vehicle pass"); smaller frames (360p, close-ups) are letterboxed to the input as before.
RIDER_VEHICLE_PASS_FACTOR = 1.25
# The whole view of a tiled frame keeps boxes at least this share of the tiles' overlap long (64 px
# at the default 128). Tiles hold anything up to the overlap whole, so 1.0 would add only what they
# may cut; half lets the view's context judge heads of 64-128 px too, which a 640 crop of a close
# rider shows without its body. Measured on gate-camera val, the near and the wide check (share 0,
# 0.5, 1): models/README.md, "The whole view".
WHOLE_VIEW_MIN_SHARE = 0.5
# Motion results of analysed frames kept until planned: more than a file source's queue holds.
ANALYSED_KEPT = 32
# An unsettled tracker keeps a still scene looked at for at most this many frames in a row: enough to
# confirm a person who stands still and give them the frames of a verdict (2 to confirm, 3 for the
# default min_frames, with room for a miss); a detection still unconfirmed after that in a scene where
# nothing moves is a borderline one flickering with the sensor noise, not someone new.
STILL_LOOK_FRAMES = 8


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
    (``riders`` with ``rider_first``: a riders-only camera whose model boxes two-wheelers; else
    motion for a frame two model inputs wide, whole otherwise) and kept: :attr:`mode` tells which.

    Work per frame is bounded by construction: tiles overlap by at most half their side (a step of
    at least half a square), and a frame never gets more than ``max_crops`` regions. A frame tiled
    whole that would need more is tiled with larger squares (shrunk to the model's input) until
    they fit (:attr:`coverage_size`); in ``motion`` mode squares on open tracks come first, then
    squares on motion, and those over the budget are left out and counted in :attr:`skipped`.
    """

    def __init__(
        self,
        settings: Detection,
        model_input_size: int | None,
        native_frame_height: int | None = None,
        riders: Riders | None = None,
        vehicle_conf: float = 0.0,
        rider_first: bool = False,
    ) -> None:
        self.settings = settings
        self._rider_first = rider_first  # auto means riders: only riders count and the model boxes two-wheelers
        self.riders = riders or Riders()
        self._vehicle_conf = vehicle_conf  # riders mode plans crops on vehicles scoring at least this
        self._vehicles = vehicle_class_names()
        self._input_size = settings.region_size or model_input_size or 640
        self._model_input = model_input_size or 640
        self._native_frame_height = None if settings.region_size else native_frame_height
        self.size = self._input_size  # the side of a native-resolution square; set per frame size by _setup
        self.coverage_size = self._input_size  # the side of the squares a frame tiled whole gets
        self.mode = settings.mode
        self.skipped = 0  # regions left out by max_crops since the start
        self._motion = MotionDetector(settings.motion)
        self._motion_lock = threading.Lock()  # analyse() on a reader thread, plan() on the detector thread
        self._analysed: OrderedDict[int, npt.NDArray[np.float32] | None] = OrderedDict()
        self.still = False  # the last planned frame: nothing moved, no region (hold the open tracks)
        self._still_run = 0  # frames in a row where nothing moved
        # riders mode: where the last planned frame may have changed (moving areas and open head tracks),
        # None where anything may have (the first frame, an unsettled tracker, a frame not analysed)
        self._changed: npt.NDArray[np.float32] | None = None
        self._frame_shape: tuple[int, int] | None = None
        self._roi: Region | None = None
        self._overlap = 0
        self._tiles: list[Region] = []
        self._whole_view: list[Region] = []  # the frame (or roi) letterboxed, for objects tiles cut
        self._vehicle_pass: Region | None = None  # riders mode: the frame (or roi), letterboxed for two-wheelers

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
        if self.mode == "auto" and self._rider_first:
            self.mode = "riders"
        elif self.mode == "auto":
            wide = max(area.width, area.height) >= AUTO_WIDE_FACTOR * self._input_size
            self.mode = "motion" if wide else "whole"
        self.size = region_side(self._input_size, height, self._native_frame_height)
        self._vehicle_pass = Region(area.x, area.y, area.width, area.height, input_size=self.vehicle_pass_size(area))
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

    @property
    def uses_motion(self) -> bool:
        """Whether planning looks at motion (``riders``, ``motion``, or ``auto`` before the first frame)."""
        return self.mode not in ("whole", "tiles")

    def analyse(self, index: int, frame: Frame) -> None:
        """Find the moving areas of frame ``index`` now, for :meth:`plan` to read later.

        Called by a source on its reader thread for every frame it delivers, in order (the motion
        background learns from each), so that motion costs the detector thread nothing.
        """
        if not self.uses_motion:
            return
        with self._motion_lock:
            self._analysed[index] = self._motion.moving_boxes(frame)
            while len(self._analysed) > ANALYSED_KEPT:
                self._analysed.popitem(last=False)

    def _moving(self, frame: Frame, index: int | None) -> npt.NDArray[np.float32] | None:
        """``(K, 4)`` moving boxes of ``frame`` (analysed before, or now); None on the first frame."""
        with self._motion_lock:
            if index is not None and index in self._analysed:
                return self._analysed.pop(index)
            return self._motion.moving_boxes(frame)

    def plan(
        self,
        frame: Frame,
        track_boxes: npt.NDArray[np.float32] | None = None,
        index: int | None = None,
        unsettled: bool = False,
        head_boxes: npt.NDArray[np.float32] | None = None,
    ) -> list[Region]:
        """The regions to detect on in ``frame``; ``track_boxes (T, 4)`` are the camera's open confirmed tracks
        (heads and vehicles), ``head_boxes (H, 4)`` those of heads; ``index``: the frame's source index, to
        read what :meth:`analyse` found; ``unsettled``: the tracker still has something to confirm, so a
        still frame is looked at too. Sets :attr:`still`."""
        shape = frame.shape[:2]
        if self._frame_shape != shape:
            self._setup(shape)
        self.still = False
        if self.mode == "whole":
            height, width = shape
            return [self._roi or Region(0, 0, width, height)]
        if self.mode == "tiles":
            return self._tiles + self._whole_view
        moving = self._moving(frame, index)
        nothing_moved = moving is not None and not len(moving)
        self._still_run = self._still_run + 1 if nothing_moved else 0
        if nothing_moved and (not unsettled or self._still_run > STILL_LOOK_FRAMES):
            self.still = True  # nothing moved: no inference, the open tracks are held as they are
            return []
        if self.mode == "riders":
            self._changed = None
            if moving is not None and not unsettled:
                heads = head_boxes if head_boxes is not None else np.zeros((0, 4), np.float32)
                self._changed = np.concatenate([_padded(moving, MOTION_PAD_PX), heads.reshape(-1, 4)])
            assert self._vehicle_pass is not None  # set by _setup
            return [self._vehicle_pass]
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
            self.still = not unsettled  # what moved lies outside the roi
            if unsettled:  # a detection not yet tracked: the frame (or roi) again, as on the first frame
                return self._tiles + self._whole_view
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

    def vehicle_pass_size(self, area: Region) -> int:
        """riders mode: the input side the frame's ``area`` (the frame or roi) is letterboxed to for the first
        pass: ``detection.vehicle_pass_size``, else :data:`RIDER_VEHICLE_PASS_FACTOR` model inputs for an area at
        least that long, the model input for a smaller one (never enlarged past what the input does; and two
        sizes only, so that the first passes of a box's cameras share batches)."""
        if self.settings.vehicle_pass_size is not None:
            return self.settings.vehicle_pass_size
        larger = round(RIDER_VEHICLE_PASS_FACTOR * self._model_input / 32) * 32
        return larger if max(area.width, area.height) >= larger else self._model_input

    def magnification(self, frame_height: int) -> float:
        """How much a rider crop is enlarged: the setting, else native_frame_height / frame height in [1, 3]."""
        if self.settings.rider_magnification is not None:
            return self.settings.rider_magnification
        if self._native_frame_height is None:
            return 1.0
        return min(RIDER_MAX_MAGNIFICATION, max(1.0, self._native_frame_height / frame_height))

    def rider_crops(self, found: Detections, frame_shape: tuple[int, int]) -> list[Region]:
        """Stage two of ``riders``: squares around where the riders' heads of the two-wheelers ``found`` in
        the frame are (each box widened by ``riders.margin`` of its width on each side and raised by
        ``riders.above`` of its height), each run at its side times :meth:`magnification` (at most the
        model input). A two-wheeler where nothing moved and no head is tracked costs nothing (a parked one:
        its square would find what the last one found). A crowded frame (more squares than ``max_crops - 1``)
        gets fewer, larger squares until they fit (:func:`pack_rider_squares`): no rider is left out."""
        if self.mode != "riders" or not len(found):
            return []
        vehicle = np.array([name in self._vehicles for name in found.labels], dtype=bool)
        vehicle &= found.scores >= self._vehicle_conf
        if not vehicle.any():
            return []
        boxes, scores = found.xyxy[vehicle], found.scores[vehicle]
        reach = self._inside_roi(rider_reach(boxes, self.riders)[np.argsort(-scores, kind="stable")], frame_shape)
        if self._changed is not None:
            reach = reach[(box_iou(reach, self._changed) > 0).any(axis=1)]
        budget = self.settings.max_crops - 1
        if not len(reach) or budget < 1:
            self.skipped += len(reach)
            return []
        scale = self.magnification(frame_shape[0])
        return pack_rider_squares(reach, budget, frame_shape, self._roi, scale, self._input_size)

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


def rider_reach(vehicles: npt.NDArray[np.float32], riders: Riders) -> npt.NDArray[np.float32]:
    """``(N, 4)`` where the riders' heads of ``vehicles`` (xyxy) can be: each box widened by ``riders.margin``
    of its width on each side and raised by ``riders.above`` of its height (the rider rule's geometry)."""
    widths, heights = vehicles[:, 2] - vehicles[:, 0], vehicles[:, 3] - vehicles[:, 1]
    return np.stack(
        [
            vehicles[:, 0] - widths * riders.margin,
            vehicles[:, 1] - heights * riders.above,
            vehicles[:, 2] + widths * riders.margin,
            vehicles[:, 3],
        ],
        axis=1,
    ).astype(np.float32)


def pack_rider_squares(
    reach: npt.NDArray[np.float32],
    budget: int,
    frame_shape: tuple[int, int],
    roi: Region | None,
    scale: float,
    max_input: int,
) -> list[Region]:
    """The squares riders' ``reach`` ``(N, 4)`` (xyxy in the frame, best vehicles first) are looked at in:
    at most ``budget`` (at least 1), each cut by :func:`rider_square`.

    One square per rider, except that a rider inside an earlier square costs nothing. While more than
    ``budget`` squares are left, the two groups of riders whose shared square is smallest are joined, past
    the model input if need be (the square is then shrunk to the input, heads shown with less than
    ``scale``): at a red light or in a street photo with twenty riders every rider is still looked at,
    as a frame tiled whole gets larger squares rather than fewer, instead of the worst-scoring vehicles'
    riders being left out. A frame within the budget is cut exactly as one rider a square."""
    groups: list[npt.NDArray[np.float32]] = []  # each square's riders' extent (xyxy): a joined square covers it
    squares: list[Region] = []
    for box in reach:
        x0, y0, x1, y1 = (float(v) for v in box)
        holder = next(
            (
                i
                for i, c in enumerate(squares)
                if c.x <= x0 and c.y <= y0 and x1 <= c.x + c.width and y1 <= c.y + c.height
            ),
            None,
        )
        if holder is not None:  # costs nothing now, and stays covered when its square is joined with another
            extent = groups[holder]
            groups[holder] = np.concatenate([np.minimum(extent[:2], box[:2]), np.maximum(extent[2:], box[2:])])
            continue
        groups.append(box.astype(np.float32))
        squares.append(rider_square(box, frame_shape, roi, scale, max_input))
    while len(groups) > budget:
        boxes = np.stack(groups)
        union = np.concatenate(
            [np.minimum(boxes[:, None, :2], boxes[None, :, :2]), np.maximum(boxes[:, None, 2:], boxes[None, :, 2:])],
            axis=2,
        )
        shared = np.maximum(union[..., 2] - union[..., 0], union[..., 3] - union[..., 1])
        np.fill_diagonal(shared, np.inf)
        first, second = sorted(int(i) for i in np.unravel_index(int(np.argmin(shared)), shared.shape))
        groups[first] = union[first, second]
        squares[first] = rider_square(groups[first], frame_shape, roi, scale, max_input)
        del groups[second], squares[second]
    return squares


def rider_square(
    reach: npt.NDArray[np.float32], frame_shape: tuple[int, int], roi: Region | None, scale: float, max_input: int
) -> Region:
    """The square a rider's ``reach`` (xyxy, inside the frame) is cut as, at native resolution (side rounded up to
    32, at least ``RIDER_MIN_SIDE_PX``), with the input size it is run at: its side times ``scale`` (at most
    ``max_input``). Training data cut by ``scripts/build_helmet_data.py --rider-crops`` uses it too."""
    x0, y0, x1, y1 = (float(v) for v in reach)
    side = max(RIDER_MIN_SIDE_PX, math.ceil(max(x1 - x0, y1 - y0) / 32) * 32)
    square = square_around((x0, y0, x1, y1), side, frame_shape, roi)
    input_size = min(max_input, max(RIDER_MIN_INPUT_PX, math.ceil(side * scale / 32) * 32))
    return Region(square.x, square.y, square.width, square.height, input_size=input_size)


def _padded(boxes: npt.NDArray[np.float32], pad: float) -> npt.NDArray[np.float32]:
    return boxes + np.array([-pad, -pad, pad, pad], dtype=np.float32)


def detect_planned(
    detector: Detector,
    frames: Sequence[Frame],
    planners: Sequence[RegionPlanner],
    plans: Sequence[Sequence[Region]],
    class_groups: Sequence[int] | None = None,
) -> tuple[list[Detections], list[int]]:
    """Each frame detected on its planned regions, and (``riders`` mode) then on its riders' crops.

    Returns one :class:`Detections` per frame and the number of crops it cost (model calls: an attribute
    model's pass over the rider squares counts each square again). The rider crops of
    every frame go in one more batch (one per input size); their boxes are merged with the frame's
    first detections as overlapping regions are.
    """
    first = detect_regions(detector, frames, plans, class_groups)
    crops = [
        planner.rider_crops(found, frame.shape[:2]) if plan else []
        for planner, plan, found, frame in zip(planners, plans, first, frames, strict=True)
    ]
    costs = [len(plan) + len(extra) for plan, extra in zip(plans, crops, strict=True)]
    if not any(crops):
        return first, costs
    parts = detect_parts(detector, frames, crops)
    merged = []
    for frame, found, frame_parts in zip(frames, first, parts, strict=True):
        if not frame_parts:
            merged.append(found)
            continue
        height, width = frame.shape[:2]
        whole = (Region(0, 0, width, height), found)  # already in frame pixels
        merged.append(merge_region_detections([whole, *frame_parts], (height, width), class_groups))
    if isinstance(detector, AttributeFinder):  # phones in the same rider squares (a second, attribute model)
        names = detector.info.class_names
        found_attributes = detector.find_attributes(frames, crops)
        pairs = zip(merged, found_attributes, strict=True)
        merged = [Detections.concatenated([one, more], names) for one, more in pairs]
        # One more model call per square: counted as crops (the budget allowed the squares, not this pass).
        costs = [cost + len(extra) for cost, extra in zip(costs, crops, strict=True)]
    return merged, costs


class StillDetection(NamedTuple):
    """One image detected as a camera detects its first frame: the boxes, how (``whole``, ``tiles`` or
    ``riders``) and the detector crops it cost (model calls)."""

    detections: Detections
    mode: str
    crops: int


def detect_still(
    detector: Detector, frame: Frame, settings: Detection, riders: Riders | None = None, vehicle_conf: float = 0.0
) -> StillDetection:
    """``frame`` detected as a camera with ``settings`` detects its first frame; how: ``whole``, ``tiles`` or
    ``riders``; and the crops it cost.

    With ``auto`` a model that boxes two-wheelers detects riders first (``riders``); another model
    tiles a frame at least two model inputs wide at native resolution (with the whole view;
    ``motion`` tiles a first frame too) and letterboxes a smaller one whole: what ``vision eval``
    scores and ``vision detect`` shows. ``vehicle_conf``: riders mode plans its
    crops on two-wheelers scoring at least this (a detector run at a low floor for AP still plans
    on the vehicles the operating threshold keeps).
    """
    info = detector.info
    boxes_vehicles = bool(set(info.class_names) & vehicle_class_names())
    planner = RegionPlanner(settings, info.input_size, info.native_frame_height, riders, vehicle_conf, boxes_vehicles)
    plan = planner.plan(frame)
    (found,), (crops,) = detect_planned(detector, [frame], [planner], [plan], merge_groups(detector.info.class_names))
    return StillDetection(found, planner.mode if planner.mode in ("whole", "riders") else "tiles", crops)
