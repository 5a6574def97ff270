"""ModelInfo: class outcomes and the class-comparable score scale."""

import numpy as np
import pytest

from vision.detectors.base import ModelInfo

NAMES = ("with_mask", "without_mask", "mask_weared_incorrect")


def test_without_per_class_thresholds_scores_are_unchanged():
    scores = np.array([0.1, 0.5, 0.99])
    info = ModelInfo(name="m", class_names=NAMES, conf=0.25)
    np.testing.assert_array_equal(info.comparable_scores(scores, np.array([0, 1, 2])), scores)


def test_each_class_threshold_lands_on_conf_and_order_within_a_class_is_kept():
    info = ModelInfo(
        name="m",
        class_names=NAMES,
        conf=0.25,
        class_conf={"with_mask": 0.3, "without_mask": 0.18, "mask_weared_incorrect": 0.03},
    )
    at_threshold = info.comparable_scores(np.array([0.3, 0.18, 0.03]), np.array([0, 1, 2]))
    np.testing.assert_allclose(at_threshold, 0.25)
    grid = np.linspace(0, 1, 101)
    for class_id in range(3):
        mapped = info.comparable_scores(grid, np.full(grid.shape, class_id))
        assert mapped[0] == 0 and mapped[-1] == pytest.approx(1.0)
        assert np.all(np.diff(mapped) > 0)
    # A class without its own threshold uses conf, so its scores are unchanged.
    partial = ModelInfo(name="m", class_names=NAMES, conf=0.25, class_conf={"without_mask": 0.1})
    np.testing.assert_allclose(partial.comparable_scores(grid, np.zeros(grid.shape, int)), grid)
