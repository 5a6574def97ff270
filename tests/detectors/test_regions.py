"""Regions at native resolution: tiles, the merge of overlapping crops, motion and the region planner."""

from __future__ import annotations

import threading
from itertools import pairwise

import cv2
import numpy as np
import pytest

from vision.config import Detection, Motion
from vision.detectors.base import ModelInfo
from vision.detectors.detections import Detections
from vision.detectors.motion import MotionDetector, RegionPlanner, cover, region_side
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


def test_a_whole_view_adds_only_what_tiles_may_cut_and_wins_over_the_cut_pieces():
    left, right = Region(0, 0, 640, 640), Region(512, 0, 640, 640)
    whole = Region(0, 0, 1920, 1080, min_box_px=64)
    # A motorcycle 400 px long across the tiles' seam: each tile holds a cut piece of it.
    pieces_left = Detections(xyxy=[[400, 300, 640, 500]], scores=[0.8], class_ids=[2], class_names=CLASSES)
    pieces_right = Detections(xyxy=[[0, 300, 288, 500]], scores=[0.7], class_ids=[2], class_names=CLASSES)
    # The whole view sees it whole, and a small head too (at a third of its native size).
    seen_whole = Detections(
        xyxy=[[400, 300, 800, 500], [100, 100, 130, 136]], scores=[0.6, 0.9], class_ids=[2, 1], class_names=CLASSES
    )
    merged = merge_region_detections(
        [(left, pieces_left), (right, pieces_right), (whole, seen_whole)], FULL_HD, merge_groups(CLASSES)
    )
    assert len(merged) == 1, "the small head is left to the tiles; the pieces merge into the whole vehicle"
    np.testing.assert_allclose(merged.xyxy[0], [400, 300, 800, 500])
    without_view = merge_region_detections([(left, pieces_left), (right, pieces_right)], FULL_HD, merge_groups(CLASSES))
    assert len(without_view) == 2, "without the whole view the vehicle stays in two cut pieces"


def test_merge_groups_keep_vehicles_apart_from_heads():
    assert merge_groups(CLASSES) == [0, 0, 3]
    assert merge_groups(("with_mask", "without_mask")) == [0, 0]


class CountingDetector:
    """Boxes the bright pixels of each crop: exact answers, so the crop bookkeeping itself is what is tested."""

    def __init__(self) -> None:
        self.calls: list[int] = []
        self.info = ModelInfo(name="bright", class_names=CLASSES, input_size=640)

    def detect(self, frames, input_size=None):
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


def test_planner_motion_mode_skips_a_still_frame_and_covers_an_open_track_while_others_move():
    planner = RegionPlanner(Detection(), 640)
    static = np.full((*FULL_HD, 3), 90, np.uint8)
    first = planner.plan(static)
    assert planner.mode == "motion", "auto picks motion for a 1920-px frame and a 640-px model"
    assert covered(first, FULL_HD).all() and not planner.still, "the first frame is tiled whole"
    assert first[-1] == Region(0, 0, 1920, 1080, min_box_px=64), "with the whole view for what tiles cut"
    assert planner.plan(static) == [] and planner.still, "nothing moved: no inference"
    stopped_rider = np.array([[1500, 200, 1530, 236]], np.float32)
    assert planner.plan(static, stopped_rider) == [] and planner.still, "nothing moved: the track is held as it is"
    passing = static.copy()
    passing[800:860, 200:240] = 240  # someone else passes: the stopped rider is looked at again too
    kept = planner.plan(passing, stopped_rider)
    assert not planner.still and covered(kept, FULL_HD)[200:236, 1500:1530].all()
    assert covered(kept, FULL_HD)[800:860, 200:240].all()


def test_motion_analysed_on_another_thread_is_what_the_plan_reads():
    frames = moving_square_frames(4)
    inline, analysed = RegionPlanner(Detection(mode="motion"), 640), RegionPlanner(Detection(mode="motion"), 640)
    for index, frame in enumerate(frames):
        reader = threading.Thread(target=analysed.analyse, args=(index, frame))
        reader.start()
        reader.join()
        assert analysed.plan(frame, index=index) == inline.plan(frame), index
    assert not analysed._analysed, "each analysed frame's motion is read once"
    whole = RegionPlanner(Detection(mode="whole"), 640)
    whole.analyse(0, frames[0])
    assert not whole._analysed, "a planner that never looks at motion does not compute it"


def test_planner_covers_a_moving_object_with_one_square():
    planner = RegionPlanner(Detection(mode="motion"), 640)
    frames = moving_square_frames(4)
    planner.plan(frames[0])
    regions = planner.plan(frames[2])
    assert 1 <= len(regions) <= 2
    assert covered(regions, FULL_HD)[600:680, 324:384].all()
    assert all(r.min_box_px == 0 for r in regions), "a square centred on it cuts nothing: no whole view"


def test_planner_adds_the_whole_view_to_tiles_but_not_to_a_frame_that_is_one_tile():
    tiles = RegionPlanner(Detection(mode="tiles"), 640).plan(np.zeros((*FULL_HD, 3), np.uint8))
    assert len(tiles) == 9 and tiles[-1] == Region(0, 0, 1920, 1080, min_box_px=64)
    assert (
        len(RegionPlanner(Detection(mode="tiles", whole_view=False), 640).plan(np.zeros((*FULL_HD, 3), np.uint8))) == 8
    )
    roi = RegionPlanner(Detection(mode="tiles", roi=(100, 300, 1200, 600)), 640).plan(np.zeros((*FULL_HD, 3), np.uint8))
    assert roi[-1] == Region(100, 300, 1200, 600, min_box_px=64), "the roi is the view"
    assert RegionPlanner(Detection(mode="tiles"), 640).plan(np.zeros((600, 640, 3), np.uint8)) == [
        Region(0, 0, 640, 600)
    ]


def test_a_model_trained_on_1080p_tiles_magnifies_the_tiles_of_a_lower_resolution_frame():
    assert region_side(640, 1080, 1080) == 640
    assert region_side(640, 720, 1080) == 448, "640 × 720 / 1080 = 427, up to a multiple of 32"
    assert region_side(640, 2160, 1080) == 640, "never larger than the input: a 4K frame's heads are large enough"
    assert region_side(640, 360, 1080) == 320, "at most 2× magnified"
    assert region_side(640, 720, None) == 640, "a model without native_frame_height keeps its input size"

    hd = np.zeros((720, 1280, 3), np.uint8)
    tiles = RegionPlanner(Detection(mode="tiles"), 640, native_frame_height=1080).plan(hd)
    assert {(r.width, r.height) for r in tiles[:-1]} == {(448, 448)} and covered(tiles[:-1], (720, 1280)).all()
    assert len(tiles) == 9, "4 × 2 squares and the whole view"
    assert tiles[-1] == Region(0, 0, 1280, 720, min_box_px=64), "and the whole view"
    auto = RegionPlanner(Detection(), 640, native_frame_height=1080)
    auto.plan(hd)
    assert auto.mode == "motion" and auto.size == 448, "a 1280-px frame is two model inputs wide: regions"
    asked = RegionPlanner(Detection(mode="tiles", region_size=512), 640, native_frame_height=1080).plan(hd)
    assert asked[0].width == 512, "a camera's own region_size wins"
    small = RegionPlanner(Detection(), 640, native_frame_height=1080)
    assert small.plan(np.zeros((480, 640, 3), np.uint8)) == [Region(0, 0, 640, 480)], "a small frame stays whole"


def test_planner_adds_the_whole_view_when_something_larger_than_a_square_moves():
    planner = RegionPlanner(Detection(mode="motion"), 640)
    empty = np.full((*FULL_HD, 3), 90, np.uint8)
    arrived = empty.copy()
    arrived[300:700, 100:900] = 240  # a bus-sized area, 800 px long, drives in
    planner.plan(empty)
    regions = planner.plan(arrived)
    assert len(regions) < 9, "less than every tile"
    assert regions[-1].min_box_px == 64 and regions[-1].width == 1920
    assert covered(regions[:-1], FULL_HD)[300:700, 100:900].all(), "and the moving area is still tiled"


def test_planner_whole_and_roi_and_auto_on_a_small_frame():
    assert RegionPlanner(Detection(), 640).plan(np.zeros((480, 640, 3), np.uint8)) == [Region(0, 0, 640, 480)]
    # the demo's market camera: a 640×480 clip and a 416 model stay whole (tiling would cost 4 calls)
    assert RegionPlanner(Detection(), 416).plan(np.zeros((480, 640, 3), np.uint8)) == [Region(0, 0, 640, 480)]
    roi = RegionPlanner(Detection(mode="whole", roi=(100, 50, 800, 600)), 640)
    assert roi.plan(np.zeros((*FULL_HD, 3), np.uint8)) == [Region(100, 50, 800, 600)]
    outside = RegionPlanner(Detection(roi=(2000, 0, 100, 100)), 640)
    with pytest.raises(ValueError, match="outside"):
        outside.plan(np.zeros((*FULL_HD, 3), np.uint8))


def test_a_small_frame_at_a_small_input_is_tiled_within_the_crop_budget():
    # The cliff of issue 26: a 640×480 clip at a 320 input with a model trained on 1080p tiles gave
    # 160 px squares stepping by 32 px, 176 a frame.
    frame = np.zeros((480, 640, 3), np.uint8)
    planner = RegionPlanner(Detection(), 320, native_frame_height=1080)
    regions = planner.plan(frame)
    assert planner.mode == "motion" and planner.size == 160
    assert len(regions) <= Detection().max_crops
    assert covered(regions, (480, 640)).all(), "the whole frame is still looked at"
    assert planner.coverage_size > planner.size, "with larger squares, shrunk to the input"
    assert planner.overlap_for(160) == 80, "tiles never step by less than half a square"
    one = RegionPlanner(Detection(mode="tiles", max_crops=1), 640).plan(np.zeros((*FULL_HD, 3), np.uint8))
    assert one == [Region(0, 0, 1920, 1080)], "a budget of one is the whole frame"


def test_the_budget_keeps_open_tracks_first_and_counts_what_it_leaves_out():
    planner = RegionPlanner(Detection(mode="motion", max_crops=3), 640)
    empty = np.full((*FULL_HD, 3), 90, np.uint8)
    planner.plan(empty)
    moved = empty.copy()
    for x in (100, 800, 1500):  # three movers far apart: three squares
        moved[100:160, x : x + 40] = 240
    tracks = np.array([[1000, 900, 1030, 936], [300, 900, 330, 936]], np.float32)
    regions = planner.plan(moved, tracks)
    assert len(regions) == 3 and planner.skipped >= 2
    assert covered(regions[:2], FULL_HD)[900:936, 1000:1030].all()
    assert covered(regions[:2], FULL_HD)[900:936, 300:330].all(), "both open tracks are kept"
    assert planner.plan(empty) == [] and planner.skipped >= 2


def test_cover_tiles_a_box_larger_than_a_region():
    regions = cover(np.array([[0, 0, 1500, 300]], np.float32), 640, FULL_HD, None, 128)
    assert covered(regions, FULL_HD)[:300, :1500].all()


def test_the_default_helmet_model_tiles_a_720p_frame_with_magnified_squares(models_dir, data_dir):
    from vision.detectors import build_detector, load_spec
    from vision.detectors.motion import detect_still

    detector = build_detector(load_spec(models_dir / "helmet.yaml"))
    assert detector.info.native_frame_height == 1080
    crops: list[tuple[int, int]] = []
    real_detect = detector.detect

    def recording(frames, input_size=None):
        crops.extend(frame.shape[:2] for frame in frames)
        return real_detect(frames, input_size)

    detector.detect = recording  # the real model still answers; this only notes what it was given
    wide = cv2.imread(str(next((data_dir / "voc" / "wide" / "images").glob("*.jpg"))))
    hd = cv2.resize(wide, (1280, 720), interpolation=cv2.INTER_AREA)
    found, mode, _ = detect_still(detector, hd, Detection(mode="motion"))
    assert mode == "tiles" and crops.count((448, 448)) == 8 and crops[-1] == (720, 1280), crops
    assert len(found) > 0


class VehicleDetector:
    """Two-wheelers wherever the red channel is bright, heads wherever the green one is (exact answers)."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, int | None, tuple[int, int]]] = []
        self.info = ModelInfo(
            name="riders",
            class_names=("with_helmet", "without_helmet", "two_wheeler"),
            input_size=640,
            native_frame_height=1080,
        )

    def detect(self, frames, input_size=None):
        self.calls.append((len(frames), input_size, frames[0].shape[:2]))
        results = []
        for frame in frames:
            boxes, classes = [], []
            for channel, class_id in ((2, 2), (1, 0)):
                ys, xs = np.nonzero(frame[..., channel] > 200)
                if len(xs):
                    boxes.append([xs.min(), ys.min(), xs.max() + 1, ys.max() + 1])
                    classes.append(class_id)
            results.append(
                Detections(
                    xyxy=np.asarray(boxes, np.float32).reshape(-1, 4),
                    scores=np.full(len(boxes), 0.9, np.float32),
                    class_ids=np.asarray(classes, np.int32),
                    class_names=self.info.class_names,
                )
            )
        return results


def test_riders_mode_finds_the_vehicle_whole_then_looks_for_its_rider_in_one_native_crop():
    from vision.config import Riders
    from vision.detectors.motion import detect_still

    frame = np.zeros((720, 1280, 3), np.uint8)
    frame[500:580, 600:700, 2] = 255  # a two-wheeler, 100 × 80 px
    frame[440:460, 640:660, 1] = 255  # its rider's head, 20 px, above it
    detector = VehicleDetector()
    found, mode, _ = detect_still(detector, frame, Detection(), Riders())
    assert mode == "riders", "auto: a model that boxes two-wheelers detects riders first"
    (first, whole_size, whole_shape), (second, crop_size, crop_shape) = detector.calls
    assert (first, whole_size, whole_shape) == (1, 800, (720, 1280)), "the frame whole, at 1.25 model inputs"
    side = crop_shape[0]
    assert second == 1 and crop_shape == (side, side) and side >= 200, "one square around the rider"
    assert crop_size == int(np.ceil(side * 1.5 / 32) * 32), "run at its side times 1080 / 720"
    heads = found.xyxy[found.class_ids == 0]
    assert len(heads) == 1 and np.allclose(heads[0], [640, 440, 660, 460]), "mapped back to frame pixels, once"
    small = np.zeros((396, 704, 3), np.uint8)
    detector.calls.clear()
    detect_still(detector, small, Detection(), Riders())
    assert detector.calls[0][1] == 640, "a frame shorter than 1.25 inputs is letterboxed to the input"
    detector.calls.clear()
    detect_still(detector, frame, Detection(vehicle_pass_size=1280), Riders())
    assert detector.calls[0][1] == 1280, "detection.vehicle_pass_size sets it"
    idle = RegionPlanner(Detection(mode="riders"), 640, 1080, Riders())
    idle.plan(frame)
    rider = np.array([[640, 440, 660, 460]], np.float32)
    assert idle.plan(frame, rider) == [] and idle.still, "nothing moved: no inference, the open track is held"


def test_rider_crops_skip_a_rider_inside_another_crop_and_join_riders_to_fit_the_budget():
    from vision.config import Riders

    vehicles = np.array(
        [[100, 800, 200, 880], [120, 810, 190, 870], [900, 800, 1000, 880], [1600, 800, 1700, 880]], np.float32
    )
    found = Detections(
        xyxy=vehicles,
        scores=np.array([0.9, 0.8, 0.7, 0.6], np.float32),
        class_ids=np.full(4, 2, np.int32),
        class_names=("with_helmet", "without_helmet", "two_wheeler"),
    )
    roomy = RegionPlanner(Detection(mode="riders"), 640, 1080, Riders())
    roomy.plan(np.zeros((*FULL_HD, 3), np.uint8))
    crops = roomy.rider_crops(found, FULL_HD)
    assert len(crops) == 3, "a square per rider, the second vehicle's inside the first's"
    assert all(crop.input_size == crop.width == 224 for crop in crops), "1080p is the model's native height: no zoom"

    tight = RegionPlanner(Detection(mode="riders", max_crops=3), 640, 1080, Riders())
    tight.plan(np.zeros((*FULL_HD, 3), np.uint8))
    crops = tight.rider_crops(found, FULL_HD)
    assert len(crops) == 2 and tight.skipped == 0, "budget 3 - 1: the two nearest riders share a square"
    assert covered(crops, FULL_HD)[680:880, [100, 199, 900, 999, 1600, 1699]].all(), "no rider left out"
    assert sorted(crop.input_size for crop in crops) == [224, 640], "the shared square is shrunk to the input"

    single = RegionPlanner(Detection(mode="riders", max_crops=2), 640, 1080, Riders())
    single.plan(np.zeros((*FULL_HD, 3), np.uint8))
    (crop,) = single.rider_crops(found, FULL_HD)
    assert crop.width > 1500 and crop.input_size == 640, "one square over every rider, shrunk to the input"
    assert covered([crop], FULL_HD)[680:880, 100:1700].all()


def test_riders_mode_leaves_out_the_square_of_a_parked_two_wheeler_where_nothing_moves():
    from vision.config import Riders

    names = ("with_helmet", "without_helmet", "two_wheeler")
    parked, arriving = [100, 500, 200, 580], [900, 500, 1000, 580]
    found = Detections(
        xyxy=np.asarray([parked, arriving], np.float32),
        scores=np.full(2, 0.9, np.float32),
        class_ids=np.full(2, 2, np.int32),
        class_names=names,
    )
    planner = RegionPlanner(Detection(mode="riders"), 640, 1080, Riders())
    still = np.full((720, 1280, 3), 90, np.uint8)
    planner.plan(still)
    assert len(planner.rider_crops(found, still.shape[:2])) == 2, "the first frame: every rider's square"
    moved = still.copy()
    moved[480:560, 920:980] = 240  # the arriving rider moves; the parked two-wheeler does not
    planner.plan(moved)
    (crop,) = planner.rider_crops(found, still.shape[:2])
    assert crop.x <= 900 and crop.x + crop.width >= 1000, "only the square where something moved"
    head_on_parked = np.array([[130, 470, 150, 490]], np.float32)
    planner.plan(moved, head_boxes=head_on_parked)
    assert len(planner.rider_crops(found, still.shape[:2])) == 2, "a tracked head keeps its square (a waiting rider)"
    planner.plan(moved, unsettled=True)
    assert len(planner.rider_crops(found, still.shape[:2])) == 2, "an unsettled tracker: every square"


def test_an_unsettled_tracker_keeps_a_still_scene_looked_at_for_a_few_frames_only():
    from vision.detectors.motion import STILL_LOOK_FRAMES

    planner = RegionPlanner(Detection(mode="motion"), 640)
    still = np.full((*FULL_HD, 3), 90, np.uint8)
    planner.plan(still)
    looked = [bool(planner.plan(still, unsettled=True)) for _ in range(STILL_LOOK_FRAMES + 3)]
    assert looked == [True] * STILL_LOOK_FRAMES + [False] * 3, "a borderline detection does not keep it looking"
    moved = still.copy()
    moved[100:160, 100:140] = 240
    assert planner.plan(moved, unsettled=True) and planner.plan(still, unsettled=True), "motion starts the count again"


def test_packed_rider_squares_cover_every_rider_also_one_that_cost_nothing_inside_a_square_later_joined():
    from vision.detectors.motion import pack_rider_squares

    rng = np.random.default_rng(0)
    for _ in range(300):
        x0 = rng.uniform(0, 1700, 12)
        y0 = rng.uniform(0, 900, 12)
        sides = rng.uniform(20, 200, (12, 2))
        reach = np.stack([x0, y0, np.minimum(x0 + sides[:, 0], 1920), np.minimum(y0 + sides[:, 1], 1080)], 1)
        squares = pack_rider_squares(reach.astype(np.float32), 3, FULL_HD, None, 1.0, 640)
        assert len(squares) <= 3
        for x0_, y0_, x1_, y1_ in np.round(reach):  # squares are cut on whole pixels
            assert any(s.x <= x0_ and s.y <= y0_ and x1_ <= s.x + s.width and y1_ <= s.y + s.height for s in squares)
