"""scripts/eval_trips.py: the truth it compares trips with, counted from a VOC folder's labels."""

from __future__ import annotations

import cv2
import numpy as np
from script_support import load_script

from vision.evaluation.voc import write_voc

eval_trips = load_script("eval_trips")


def test_riders_per_labelled_two_wheeler_follow_the_rider_geometry(tmp_path):
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "gate.jpg"), np.zeros((360, 640, 3), np.uint8))
    boxes = np.array(
        [
            [300, 200, 400, 260],  # a scooter
            [320, 150, 340, 172],  # its rider, helmeted
            [350, 145, 368, 165],  # a bare-headed passenger
            [40, 300, 100, 350],  # a parked scooter, nobody on it
            [500, 100, 520, 122],  # a pedestrian's head, on no vehicle
        ],
        np.float32,
    )
    labels = ["two_wheeler", "with_helmet", "without_helmet", "two_wheeler", "without_helmet"]
    write_voc(tmp_path / "annotations", "gate", "gate.jpg", (360, 640), boxes, labels)
    (tmp_path / "val.txt").write_text("gate\n")
    assert eval_trips.labelled_trips(tmp_path, "val.txt") == {"gate": [(2, 1)]}
