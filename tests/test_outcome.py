"""Outcomes implied by dataset class names."""

import pytest

from vision.categories import outcome_by_name
from vision.outcome import Outcome


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("with_mask", Outcome.COMPLIANT),
        ("With Helmet", Outcome.COMPLIANT),
        ("without_mask", Outcome.NON_COMPLIANT),
        ("Without Helmet", Outcome.NON_COMPLIANT),
        ("mask_weared_incorrect", Outcome.NON_COMPLIANT),
        ("face", None),
        ("helmet", None),
    ],
)
def test_class_names_imply_outcomes(name, expected):
    assert outcome_by_name(name) is expected
