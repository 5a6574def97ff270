"""Regions at native resolution: tiles, the merge of overlapping crops, motion and the region planner."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from vision.config import Detection, Motion
from vision.detectors.base import ModelInfo
from vision.detectors.detections import Detections
from vision.detectors.motion import MotionDetector, RegionPlanner, cover
from vision.detectors.regions import Region, detect_regions, merge_groups, merge_region_detections, tile_regions

CLASSES = ("with_helmet", "without_helmet", "two_wheeler")
FULL_HD = (1080, 1920)


def covered(regions: list[Region], shape: tuple[int, int]) -> np.ndarray:
    mask = np.zeros(shape, dtype=bool)
    for r in regions:
        mask[r.y : r.y + r.height, r.x : r.x + r.width] = True
    return mask


def test_tiles_cover_the_frame_with_the_overlap_asked_for():
    tiles = tile_regions(FULL_HD, 640, 128)
    assert covered(tiles, FULL_HD).all()
    assert all(t.width == 640 and t.height == 640 for t in tiles)
    assert all(t.x + t.width <= 1920 and t.y + t.height <= 1080 for t in tiles)
    xs = sorted({t.x for t in tiles})
    assert all(b - a <= 640 - 128 for a, b in pairwise(xs))
    assert len(tiles) == 8  # 4 columns × 2 rows


def test_tiles_stay_inside_a_roi_and_a_small_frame_is_one_tile():
    roi = Region(100, 300, 1000, 500)
    tiles = tile_regions(FULL_HD, 640, 128, within=roi)
    assert covered(tiles, FULL_HD)[300:800, 100:1100].all()
    assert not covered(tiles, FULL_HD)[:300].any() and not covered(tiles, FULL_HD)[:, 1100:].any()
    assert tile_regions((480, 600), 640, 128) == [Region(0, 0, 600, 480)]
    with pytest.raises(ValueError, match="overlap"):
        tile_regions(FULL_HD, 640, 640)


def test_a_head_cut_by_a_tile_edge_merges_with_the_whole_head_of_the_next_tile():
    left, right = Region(0, 0, 640, 640), Region(512, 0, 640, 640)
    head_whole = Detections(xyxy=[[120, 100, 150, 136]], scores=[0.6], class_ids=[0], class_names=CLASSES)  # in right
    head_cut = Detections(xyxy=[[632, 100, 640, 136]], scores=[0.8], class_ids=[1], class_names=CLASSES)  # in left
    vehicle = Detections(xyxy=[[600, 120, 700, 260]], scores=[0.9], class_ids=[2], class_names=CLASSES)  # in left
    merged = merge_region_detections(
        [
            (
                left,
                Detections(
                    xyxy=np.concatenate([head_cut.xyxy, vehicle.xyxy]),
                    scores=[0.8, 0.9],
                    class_ids=[1, 2],
                    class_names=CLASSES,
                ),
            ),
            (right, head_whole),
        ],
        FULL_HD,
        merge_groups(CLASSES),
    )
    heads = merged[merged.class_ids != 2]
    assert len(heads) == 1, "one head, not two"
    # The whole box wins over the higher-scored one cut by the crop edge.
    np.testing.assert_allclose(heads.xyxy[0], [632, 100, 662, 136])
    assert (merged.class_ids == 2).sum() == 1, "the vehicle under the head is kept: another merge group"


def test_a_regions_second_guess_at_a_head_stays_as_on_a_whole_frame_but_not_across_regions():
    left, right = Region(0, 0, 640, 640), Region(512, 0, 640, 640)
    # One head at frame x 560-590, inside both crops: the left crop's NMS kept both classes on it.
    guesses = Detections(xyxy=[[560, 100, 590, 136]] * 2, scores=[0.7, 0.4], class_ids=[0, 1], class_names=CLASSES)
    seen_again = Detections(xyxy=[[49, 101, 79, 137]], scores=[0.5], class_ids=[1], class_names=CLASSES)
    parts = [(left, guesses), (right, seen_again)]

    merged = merge_region_detections(parts, FULL_HD, merge_groups(CLASSES))

    # The left crop's two guesses stay; the right crop's sight of the same head merges into them.
    assert merged.class_ids.tolist() == [0, 1]
    np.testing.assert_allclose(merged.scores, [0.7, 0.4], rtol=1e-6)
    alone = merge_region_detections(
        [(left, guesses), (right, Detections.empty(CLASSES))], FULL_HD, merge_groups(CLASSES)
    )
    assert len(alone) == 2


def test_merge_groups_keep_vehicles_apart_from_heads():
    assert merge_groups(CLASSES) == [0, 0, 3]
    assert merge_groups(("with_mask", "without_mask")) == [0, 0]


class CountingDetector:
    """Boxes the bright pixels of each crop: exact answers, so the crop bookkeeping itself is what is tested."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.info = ModelInfo(name="bright", class_names=CLASSES, input_size=640)

    def detect(self, frames):
        self.calls.append(len(frames))
        results = []
        for frame in frames:
            ys, xs = np.nonzero(frame[..., 0] > 200)
            if len(xs):
                box = [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]
                results.append(Detections(xyxy=box, scores=[0.9], class_ids=[0], class_names=CLASSES))
            else:
                results.append(Detections.empty(CLASSES))
        return results


def test_detect_regions_batches_every_frames_crops_and_maps_boxes_back():
    detector = CountingDetector()
    frames = [np.zeros((*FULL_HD, 3), np.uint8) for _ in range(2)]
    frames[0][500:530, 1000:1024] = 255
    plans = [tile_regions(FULL_HD, 640, 128), []]
    results = detect_regions(detector, frames, plans, merge_groups(CLASSES))
    assert detector.calls == [8], "one batch for all crops; the frame without regions costs nothing"
    assert len(results[0]) == 1 and len(results[1]) == 0
    np.testing.assert_allclose(results[0].xyxy[0], [1000, 500, 1024, 530])


def moving_square_frames(n: int, step: int = 12) -> list[np.ndarray]:
    frames = []
    for i in range(n):
        frame = np.full((*FULL_HD, 3), 90, np.uint8)
        x = 300 + step * i
        frame[600:680, x : x + 60] = 240
        frames.append(frame)
    return frames


def test_motion_finds_the_moving_object_and_nothing_in_a_static_frame():
    motion = MotionDetector(Motion())
    frames = moving_square_frames(5)
    assert motion.moving_boxes(frames[0]) is None  # no reference yet
    boxes = motion.moving_boxes(frames[1])
    assert len(boxes) >= 1
    x0, y0, x1, y1 = boxes[:, 0].min(), boxes[:, 1].min(), boxes[:, 2].max(), boxes[:, 3].max()
    assert x0 <= 312 and x1 >= 372 and y0 <= 600 and y1 >= 680
    still = MotionDetector(Motion())
    static = np.full((*FULL_HD, 3), 90, np.uint8)
    still.moving_boxes(static)
    assert len(still.moving_boxes(static)) == 0


def test_planner_motion_mode_skips_a_static_frame_and_keeps_a_region_on_an_open_track():
    planner = RegionPlanner(Detection(), 640)
    static = np.full((*FULL_HD, 3), 90, np.uint8)
    first = planner.plan(static)
    assert planner.mode == "motion", "auto picks motion for a 1920-px frame and a 640-px model"
    assert covered(first, FULL_HD).all(), "the first frame is tiled whole"
    assert planner.plan(static) == [], "nothing moved and no track is open: no inference"
    stopped_rider = np.array([[1500, 200, 1530, 236]], np.float32)
    kept = planner.plan(static, stopped_rider)
    assert len(kept) == 1 and covered(kept, FULL_HD)[200:236, 1500:1530].all()


def test_planner_covers_a_moving_object_with_one_square():
    planner = RegionPlanner(Detection(mode="motion"), 640)
    frames = moving_square_frames(4)
    planner.plan(frames[0])
    regions = planner.plan(frames[2])
    assert 1 <= len(regions) <= 2
    assert covered(regions, FULL_HD)[600:680, 324:384].all()


def test_planner_whole_and_roi_and_auto_on_a_small_frame():
    assert RegionPlanner(Detection(), 640).plan(np.zeros((480, 640, 3), np.uint8)) == [Region(0, 0, 640, 480)]
    # the demo's market camera: a 640×480 clip and a 416 model stay whole (tiling would cost 4 calls)
    assert RegionPlanner(Detection(), 416).plan(np.zeros((480, 640, 3), np.uint8)) == [Region(0, 0, 640, 480)]
    roi = RegionPlanner(Detection(mode="whole", roi=(100, 50, 800, 600)), 640)
    assert roi.plan(np.zeros((*FULL_HD, 3), np.uint8)) == [Region(100, 50, 800, 600)]
    outside = RegionPlanner(Detection(roi=(2000, 0, 100, 100)), 640)
    with pytest.raises(ValueError, match="outside"):
        outside.plan(np.zeros((*FULL_HD, 3), np.uint8))


def test_cover_tiles_a_box_larger_than_a_region():
    regions = cover(np.array([[0, 0, 1500, 300]], np.float32), 640, FULL_HD, None, 128)
    assert covered(regions, FULL_HD)[:300, :1500].all()
