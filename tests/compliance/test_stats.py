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


def _lang_reiczigel_by_hand(compliant, n, tp, n_nc, tn, n_c, z=1.959963984540054):
    """The paper's equations written out in terms of the non-compliance share, independently of the code."""
    import math

    x = n - compliant
    q_adj, se_adj, sp_adj = (x + z * z / 2) / (n + z * z), (tp + 1) / (n_nc + 2), (tn + 1) / (n_c + 2)
    p_adj = (q_adj + sp_adj - 1) / (se_adj + sp_adj - 1)
    var = (
        q_adj * (1 - q_adj) / (n + z * z)
        + p_adj**2 * se_adj * (1 - se_adj) / (n_nc + 2)
        + (1 - p_adj) ** 2 * sp_adj * (1 - sp_adj) / (n_c + 2)
    ) / (se_adj + sp_adj - 1) ** 2
    d = 2 * z * z * (p_adj * se_adj * (1 - se_adj) / (n_nc + 2) - (1 - p_adj) * sp_adj * (1 - sp_adj) / (n_c + 2))
    low, high = max(0, p_adj + d - z * math.sqrt(var)), min(1, p_adj + d + z * math.sqrt(var))
    return 1 - high, 1 - low


def test_lang_reiczigel_matches_the_papers_equations():
    from vision.compliance.stats import lang_reiczigel
    from vision.outcome import ValidationCounts

    estimate = wilson_interval(140, 200)  # 60 judged non-compliant
    audit = ValidationCounts(judged_non_compliant=36, truly_non_compliant=40, judged_compliant=55, truly_compliant=60)
    corrected = lang_reiczigel(estimate, audit)
    se, sp = 36 / 40, 55 / 60
    assert corrected.rate == pytest.approx(1 - (60 / 200 + sp - 1) / (se + sp - 1))
    assert (corrected.low, corrected.high) == pytest.approx(_lang_reiczigel_by_hand(140, 200, 36, 40, 55, 60))
    assert corrected.low < corrected.rate < corrected.high
    # A bigger audit with the same error rates narrows the interval towards the fixed-Se/Sp one.
    big = lang_reiczigel(estimate, ValidationCounts(900, 1000, 917, 1000))
    assert big.high - big.low < corrected.high - corrected.low


@pytest.mark.parametrize(
    ("compliance", "sensitivity", "specificity", "n", "audited"),
    [
        (0.90, 0.85, 0.95, 200, 60),  # a school gate at 90 %, a decent detector, a small audit
        (0.60, 0.75, 0.90, 150, 40),
        (0.95, 0.95, 0.98, 400, 100),
        (0.75, 0.70, 0.85, 80, 30),
    ],
)
def test_lang_reiczigel_covers_the_true_rate_at_least_93_percent(compliance, sensitivity, specificity, n, audited):
    """Simulated sites: verdicts with the given error, an audit of ``audited`` random observations."""
    import numpy as np

    from vision.compliance.stats import lang_reiczigel
    from vision.outcome import ValidationCounts

    rng = np.random.default_rng(7)
    covered = trials = 0
    for _ in range(3000):
        truth_compliant = rng.random(n) < compliance
        judged_compliant = np.where(truth_compliant, rng.random(n) < specificity, rng.random(n) >= sensitivity)
        sample = rng.choice(n, size=audited, replace=False)  # the random audit, marked by hand
        truth_s, judged_s = truth_compliant[sample], judged_compliant[sample]
        audit = ValidationCounts(
            judged_non_compliant=int(np.sum(~truth_s & ~judged_s)),
            truly_non_compliant=int(np.sum(~truth_s)),
            judged_compliant=int(np.sum(truth_s & judged_s)),
            truly_compliant=int(np.sum(truth_s)),
        )
        if audit.truly_non_compliant == 0 or audit.truly_compliant == 0:
            continue
        if audit.judged_non_compliant / audit.truly_non_compliant + audit.judged_compliant / audit.truly_compliant <= 1:
            continue
        corrected = lang_reiczigel(wilson_interval(int(judged_compliant.sum()), n), audit)
        trials += 1
        covered += corrected.low <= compliance <= corrected.high
    assert trials > 2500
    assert covered / trials >= 0.93, f"coverage {covered / trials:.3f} over {trials} simulated sites"


def test_the_docstring_examples_hold():
    """The examples in the statistics' docstrings are run, not just read (no --doctest-modules here)."""
    import doctest

    from vision.compliance import stats

    result = doctest.testmod(stats)
    assert result.attempted >= 2 and result.failed == 0
