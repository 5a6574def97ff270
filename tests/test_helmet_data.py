"""scripts/build_helmet_data.py: the helmet training set's crops, bystanders, faces as heads and rider crops."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from script_support import load_script

from spec_support import require_built_model
from vision.evaluation.voc import load_voc
from vision.training import synthesis

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "scripts"


build_helmet_data = load_script("build_helmet_data")


def test_crop_keeps_boxes_mostly_inside_and_shifts_them(data_dir):
    image = np.zeros((1080, 1920, 3), np.uint8)
    item = synthesis.Labelled(
        image, np.array([[700, 100, 730, 136], [620, 100, 650, 136]], np.float32), ["with_helmet", "without_helmet"]
    )
    crop = build_helmet_data.crop_labels(item, build_helmet_data.Region(640, 0, 640, 640))
    assert crop.image.shape == (640, 640, 3)
    assert crop.labels == ["with_helmet"], "a head only a third inside the crop is dropped"
    np.testing.assert_allclose(crop.xyxy[0], [60, 100, 90, 136])


def test_committed_wide_frames_are_a_voc_folder(data_dir):
    images = load_voc(data_dir / "voc" / "wide", "val.txt")
    assert [i.size for i in images] == [(1080, 1920)] * 2
    heads = [box for i in images for box, label in zip(i.xyxy, i.labels, strict=True) if label != "two_wheeler"]
    sides = [float(np.sqrt((b[2] - b[0]) * (b[3] - b[1]))) for b in heads]
    assert len(heads) == 12 and max(sides) < 40


def _textured(height: int, width: int) -> np.ndarray:
    """A noisy image: blurring it changes pixels (a flat one would not)."""
    return np.random.default_rng(0).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


def test_a_person_without_a_labelled_head_has_head_and_shoulders_blurred():
    image = _textured(400, 600)
    rider_head = [110.0, 40.0, 140.0, 70.0]
    item = synthesis.Labelled(
        image,
        np.array([rider_head, [80, 120, 200, 220]], np.float32),
        ["with_helmet", "two_wheeler"],
        people=np.array([[90, 30, 160, 230], [400, 100, 460, 300]], np.float32),  # a rider, a bystander
    )
    assert build_helmet_data.bystander_regions(item) == [(391, 90, 469, 160)]
    hidden, count = build_helmet_data.hide_bystanders(item)
    assert count == 1
    assert hidden.labels == item.labels and hidden.xyxy is item.xyxy
    before, after = image[100:160, 400:460].astype(float), hidden.image[100:160, 400:460].astype(float)
    assert after.std() < 0.3 * before.std(), "the bystander's head is smeared"
    np.testing.assert_array_equal(hidden.image[250:300, 400:460], image[250:300, 400:460])  # legs stay
    np.testing.assert_array_equal(hidden.image[40:71, 110:141], image[40:71, 110:141])  # the rider's head stays
    assert np.array_equal(item.image, image), "the input is not changed"


def test_a_labelled_head_inside_a_bystander_region_keeps_its_pixels():
    image = _textured(300, 300)
    head = [120.0, 20.0, 150.0, 50.0]  # a rider's head just beside a pedestrian's shoulders
    item = synthesis.Labelled(
        image, np.array([head], np.float32), ["without_helmet"], people=np.array([[60, 0, 120, 200]], np.float32)
    )
    # the head's centre (135) lies outside the pedestrian's widened box (48..132): a bystander
    hidden, count = build_helmet_data.hide_bystanders(item)
    assert count == 1
    np.testing.assert_array_equal(hidden.image[20:51, 120:151], image[20:51, 120:151])


def test_the_teacher_finds_the_people_of_a_gate_frame(teacher):
    gate = ROOT.parent / "shared" / "datasets" / "gate-camera"
    item = next(i for i in load_voc(gate, "train.txt") if "11_30-13_00_MP4-0007_" in i.name)
    labelled = synthesis.with_teacher(item, teacher)
    regions = build_helmet_data.bystander_regions(labelled)
    # The pillion passenger (head unlabelled, cut by the frame's top) is the one person to hide.
    assert len(regions) == 1
    x0, y0, x1, y1 = regions[0]
    assert y0 < 300 and x1 - x0 > 200, "a near person's head and shoulders"
    hidden, _ = build_helmet_data.hide_bystanders(labelled)
    (head,) = labelled.xyxy[[label in synthesis.HEAD_CLASSES for label in labelled.labels]].astype(int)
    np.testing.assert_array_equal(
        hidden.image[head[1] : head[3], head[0] : head[2]], labelled.image[head[1] : head[3], head[0] : head[2]]
    )
    assert not np.array_equal(hidden.image[y0:y1, x0:x1], labelled.image[y0:y1, x0:x1])


def test_a_face_becomes_a_bare_head_drawn_round_it():
    image = np.zeros((100, 200, 3), np.uint8)
    item = synthesis.Labelled(
        image,
        np.array([[50, 40, 70, 60], [0, 0, 10, 10], [10, 10, 90, 90]], np.float32),
        ["with_mask", "mask_weared_incorrect", "two_wheeler"],
    )
    heads = build_helmet_data.face_heads(item)
    assert heads.labels == ["without_helmet", "without_helmet", "two_wheeler"], "masked or not, no helmet"
    side, above, below = build_helmet_data.FACE_TO_HEAD
    np.testing.assert_allclose(
        heads.xyxy[0], [50 - 20 * side, 40 - 20 * above, 70 + 20 * side, 60 + 20 * below], atol=1e-4
    )
    assert heads.xyxy[1].min() == 0.0, "a head past the image's edge is clipped to it"
    np.testing.assert_array_equal(heads.xyxy[2], item.xyxy[2])
    assert item.labels[0] == "with_mask", "the photo's own labels are not changed in place"


face_head_ratios = load_script("face_head_ratios")


def test_only_a_head_sized_box_round_the_face_is_its_head():
    face = np.array([100, 100, 120, 124], np.float32)
    person = np.array([60, 60, 170, 300], np.float32)  # holds the face, but is a body
    beside = np.array([130, 90, 160, 130], np.float32)
    head = np.array([94, 85, 126, 127], np.float32)
    found = face_head_ratios.head_of_face(face, np.stack([person, beside, head]))
    np.testing.assert_array_equal(found, head)
    assert face_head_ratios.head_of_face(face, np.stack([person, beside])) is None
    np.testing.assert_allclose(face_head_ratios.reach(face, head), [0.3, 0.3, 15 / 24, 3 / 24])


def test_the_face_to_head_ratios_hold_on_committed_face_mask_photos(data_dir):
    """The YOLOv12m helmet model's heads round the labelled faces of the committed face-mask photos
    reach past them about as far as ``FACE_TO_HEAD`` (measured on 200 train photos) says."""
    from vision.detectors import load_detector

    detector = load_detector(require_built_model("helmet-yolov12m.yaml"))
    rows, _ = face_head_ratios.face_reaches(detector, load_voc(data_dir / "voc" / "mask"))
    assert len(rows) >= 5, f"only {len(rows)} faces boxed as heads"
    left, right, above, below = np.median(np.array(rows), axis=0)
    side, top, bottom = build_helmet_data.FACE_TO_HEAD
    assert abs((left + right) / 2 - side) < 0.1 and abs(above - top) < 0.15 and abs(below - bottom) < 0.15, rows


def _voc_with_splits(source: Path, out: Path, train: list[str], val: list[str]) -> Path:
    """A VOC folder of links to ``source``'s images and annotations, with train.txt and val.txt."""
    for kind in ("images", "annotations"):
        (out / kind).mkdir(parents=True)
        for file in (source / kind).iterdir():
            (out / kind / file.name).symlink_to(file)
    (out / "train.txt").write_text("".join(f"{name}\n" for name in train))
    (out / "val.txt").write_text("".join(f"{name}\n" for name in val))
    return out


def test_close_up_copies_list_each_train_photo_again_and_change_nothing_else(data_dir, teacher, tmp_path):
    photos = sorted(p.stem for p in (data_dir / "voc" / "helmet" / "images").iterdir())
    bike = _voc_with_splits(data_dir / "voc" / "helmet", tmp_path / "bike", photos[:3], photos[3:])
    gate = _voc_with_splits(data_dir / "voc" / "wide", tmp_path / "gate", ["wide_000"], ["wide_001"])
    build_helmet_data.build(tmp_path / "once", bike, gate, teacher)
    build_helmet_data.build(tmp_path / "twice", bike, gate, teacher, close_up_copies=2)

    once = (tmp_path / "once" / "train.txt").read_text().split()
    twice = (tmp_path / "twice" / "train.txt").read_text().split()
    copies = [name for name in twice if name not in once]
    assert copies == [f"bike_{photo}_copy1" for photo in photos[:3]]
    assert [name for name in twice if name not in copies] == once, "the rest of the build is the same, in order"
    assert (tmp_path / "once" / "val.txt").read_text() == (tmp_path / "twice" / "val.txt").read_text()
    for name in once:
        xml = f"annotations/{name}.xml"
        assert (tmp_path / "once" / xml).read_text() == (tmp_path / "twice" / xml).read_text(), name
    for photo in photos[:3]:
        original = (tmp_path / "twice" / "annotations" / f"bike_{photo}.xml").read_text()
        copy = (tmp_path / "twice" / "annotations" / f"bike_{photo}_copy1.xml").read_text()
        assert copy.replace(f"bike_{photo}_copy1", f"bike_{photo}") == original


def test_rider_crops_are_cut_and_magnified_as_riders_first_serves_them():
    """A 640x360 frame (a campus-gate camera): each two-wheeler's rider square, magnified 3x (1080 / 360), with
    its rider's head kept and scaled; a two-wheeler with no head on it gives no crop."""
    image = np.zeros((360, 640, 3), np.uint8)
    boxes = np.array(
        [[300, 200, 360, 260], [310, 170, 325, 186], [40, 300, 100, 350]], np.float32
    )  # a scooter, its rider's head above it, a parked scooter alone
    item = synthesis.Labelled(image, boxes, ["two_wheeler", "without_helmet", "two_wheeler"])
    (crop,) = build_helmet_data.rider_crops(item, frozenset({"two_wheeler"}))
    # The reach is 90 x 150 px (0.25 of the width each side, 1.5 heights above): a 160 px square, run at 480.
    assert crop.image.shape[:2] == (480, 480)
    head = crop.xyxy[crop.labels.index("without_helmet")]
    np.testing.assert_allclose(head[2] - head[0], 15 * 3, atol=0.01)
    assert "two_wheeler" in crop.labels, "the vehicle stays labelled in its own crop"
