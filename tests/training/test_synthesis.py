"""vision.training.synthesis: the COCO teacher's two-wheelers merged with head labels, photos rendered small."""

from __future__ import annotations

import numpy as np

from vision.evaluation.voc import load_voc, write_voc
from vision.training import synthesis


def test_teacher_two_wheelers_are_merged_with_the_head_labels(data_dir, teacher, tmp_path):
    item = next(i for i in load_voc(data_dir / "voc" / "helmet") if i.name == "BikesHelmets9")
    labelled = synthesis.with_teacher(item, teacher)
    heads = [label for label in labelled.labels if label in synthesis.HEAD_CLASSES]
    assert heads == list(item.labels), "the helmet labels stay as they are, first"
    vehicles = labelled.xyxy[[label == "two_wheeler" for label in labelled.labels]]
    assert len(vehicles) >= 1, "the rider's motorcycle is found by the COCO teacher"
    # Each head of this photo sits on top of a vehicle box (COCO boxes the vehicle, not the rider).
    head = labelled.xyxy[0]
    assert any(v[0] - 0.25 * (v[2] - v[0]) <= (head[0] + head[2]) / 2 <= v[2] + 0.25 * (v[2] - v[0]) for v in vehicles)
    write_voc(tmp_path / "annotations", "x", item.image_path.name, item.size, labelled.xyxy, labelled.labels)
    (tmp_path / "images").mkdir()
    (tmp_path / "images" / item.image_path.name).symlink_to(item.image_path)
    (again,) = load_voc(tmp_path)
    assert list(again.labels) == labelled.labels
    np.testing.assert_allclose(again.xyxy, labelled.xyxy, atol=0.06)


def test_rendering_small_puts_heads_at_the_asked_size(data_dir):
    items = [synthesis.with_teacher(item, None) for item in load_voc(data_dir / "voc" / "helmet")]
    background = synthesis.Labelled(np.full((1080, 1920, 3), 90, np.uint8), np.zeros((0, 4), np.float32), [])
    frame, placed = synthesis.compose(background, items, [20.0] * len(items), np.random.default_rng(0))
    assert placed == len(items)
    sides = np.sqrt((frame.xyxy[:, 2] - frame.xyxy[:, 0]) * (frame.xyxy[:, 3] - frame.xyxy[:, 1]))
    assert 14 <= float(np.median(sides)) <= 26
    assert sorted(frame.labels) == sorted(label for item in items for label in item.labels)
