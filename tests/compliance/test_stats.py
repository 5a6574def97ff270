import pytest

from vision.compliance.stats import rogan_gladen, wilson_interval


@pytest.mark.parametrize(
    ("successes", "n", "low", "high"),
    [
        # Reference: Wilson 95 % intervals from scipy.stats.binomtest(k, n).proportion_ci(method="wilson").
        (8, 10, 0.4901625, 0.9433178),
        (0, 10, 0.0, 0.2775328),
        (10, 10, 0.7224672, 1.0),
        (45, 50, 0.7863977, 0.9565242),
        (1, 1, 0.2065493, 1.0),
    ],
)
def test_wilson_interval_matches_reference_values(successes, n, low, high):
    estimate = wilson_interval(successes, n)
    assert estimate.rate == pytest.approx(successes / n)
    assert (estimate.low, estimate.high) == pytest.approx((low, high), abs=1e-6)


def test_wilson_interval_of_nothing_is_empty_not_zero():
    estimate = wilson_interval(0, 0)
    assert (estimate.rate, estimate.low, estimate.high) == (None, None, None)


def test_wider_confidence_gives_a_wider_interval():
    narrow, wide = wilson_interval(30, 40, 0.90), wilson_interval(30, 40, 0.99)
    assert wide.low < narrow.low < narrow.high < wide.high


@pytest.mark.parametrize(("successes", "n"), [(-1, 5), (6, 5), (0, -1)])
def test_wilson_interval_rejects_impossible_counts(successes, n):
    with pytest.raises(ValueError, match="successes"):
        wilson_interval(successes, n)


def test_rogan_gladen_hand_computed():
    # Observed compliance 0.8 -> non-compliance q = 0.2; se = 0.9, sp = 0.95:
    # (0.2 + 0.95 - 1) / (0.9 + 0.95 - 1) = 0.15 / 0.85 = 0.17647 -> compliance 0.82353.
    corrected = rogan_gladen(wilson_interval(80, 100), sensitivity=0.9, specificity=0.95)
    assert corrected.rate == pytest.approx(1 - 0.15 / 0.85)
    assert corrected.low < corrected.rate < corrected.high


def test_rogan_gladen_with_a_perfect_detector_changes_nothing_and_rejects_useless_ones():
    observed = wilson_interval(30, 40)
    corrected = rogan_gladen(observed, 1.0, 1.0)
    assert (corrected.rate, corrected.low, corrected.high) == pytest.approx(
        (observed.rate, observed.low, observed.high)
    )
    with pytest.raises(ValueError, match="exceed 1"):
        rogan_gladen(observed, 0.5, 0.5)
