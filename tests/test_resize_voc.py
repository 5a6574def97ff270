"""scripts/resize_voc.py: a committed VOC set at another width, images and boxes scaled together."""

from __future__ import annotations

import cv2
import numpy as np
from script_support import load_script

from vision.evaluation.voc import load_voc

resize_voc = load_script("resize_voc")


def test_images_and_boxes_are_scaled_by_the_same_factor(data_dir, tmp_path):
    source = data_dir / "voc" / "wide"
    count = resize_voc.resize_voc(source, "val.txt", 1280, tmp_path)
    before, after = load_voc(source, "val.txt"), load_voc(tmp_path, "val.txt")
    assert count == len(before) == len(after) > 0
    for original, resized in zip(before, after, strict=True):
        assert resized.name == original.name and resized.labels == original.labels
        height, width = original.size
        scale = 1280 / width
        assert resized.size == (round(height * scale), 1280) == cv2.imread(str(resized.image_path)).shape[:2]
        np.testing.assert_allclose(resized.xyxy, original.xyxy * scale, atol=1.0)
