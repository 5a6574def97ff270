"""scripts/mosaic_voc.py: committed VOC images laid out on a grid, each label shifted with its image."""

from __future__ import annotations

import cv2
import numpy as np
from script_support import load_script

from vision.evaluation.voc import load_voc

mosaic_voc = load_script("mosaic_voc")


def test_each_image_lands_in_its_cell_with_its_labels_shrunk_and_shifted_alike(data_dir, tmp_path):
    source = data_dir / "voc" / "helmet"
    items = load_voc(source)
    count = mosaic_voc.mosaic_voc(source, None, (2, 2), (320, 180), tmp_path)
    assert count == -(-len(items) // 4) and len(items) > 4, "a frame per four images, the last one partly grey"
    frames = load_voc(tmp_path, "all.txt")
    assert sum(len(frame.labels) for frame in frames) == sum(len(item.labels) for item in items)
    first = frames[0]
    canvas = cv2.imread(str(first.image_path))
    assert canvas.shape[:2] == first.size == (360, 640)
    boxes = iter(first.xyxy)
    for slot, item in enumerate(items[:4]):
        image = cv2.imread(str(item.image_path))
        scale = min(1.0, 320 / image.shape[1], 180 / image.shape[0])
        x0 = (slot % 2) * 320 + (320 - round(image.shape[1] * scale)) // 2
        y0 = (slot // 2) * 180 + (180 - round(image.shape[0] * scale)) // 2
        for box in item.xyxy:
            np.testing.assert_allclose(next(boxes), box * scale + [x0, y0, x0, y0], atol=0.2)
        cell = canvas[(slot // 2) * 180 : (slot // 2 + 1) * 180, (slot % 2) * 320 : (slot % 2 + 1) * 320]
        assert cell.std() > 10, "the image, not the grey fill"
    last = cv2.imread(str(frames[-1].image_path))
    assert (np.abs(last[180:, 320:].astype(int) - mosaic_voc.GREY) <= 3).all(), "an empty cell stays grey"
