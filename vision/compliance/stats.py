"""Interval estimates for a compliance rate.

``rate = compliant / (compliant + non_compliant)``; undetermined observations are counted beside
it, never inside it.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from statistics import NormalDist

from vision.outcome import ValidationCounts


@functools.cache  # one confidence per deployment; a city's series asks it for every one of 5.6 k points
def _z(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


@dataclass(frozen=True)
class RateEstimate:
    """A proportion with its interval: ``rate``, ``low`` and ``high`` in [0, 1]; None when ``n == 0``."""

    successes: int
    n: int
    rate: float | None
    low: float | None
    high: float | None


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> RateEstimate:
    """Wilson score interval for ``successes`` out of ``n``.

    Unlike the normal (Wald) interval it stays inside [0, 1] and keeps its coverage for small
    ``n`` and rates near 0 or 1, which is where compliance rates live.

    >>> e = wilson_interval(8, 10); round(e.low, 4), round(e.high, 4)
    (0.4902, 0.9433)
    """
    if n < 0 or not 0 <= successes <= n:
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return RateEstimate(successes, n, None, None, None)
    z = _z(confidence)
    p = successes / n
    denominator = 1.0 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half_width = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return RateEstimate(successes, n, p, max(0.0, centre - half_width), min(1.0, centre + half_width))


def rogan_gladen(estimate: RateEstimate, sensitivity: float, specificity: float) -> RateEstimate:
    """Correct an observed compliance rate for detector error (Rogan and Gladen, 1978).

    ``sensitivity`` is P(judged non-compliant | non-compliant) and ``specificity`` is
    P(judged compliant | compliant), both measured on labelled data (the model card). The
    observed non-compliance share ``q`` becomes ``(q + sp - 1) / (se + sp - 1)``; the interval
    is the Wilson interval carried through the same monotone map, clipped to [0, 1] (it does not
    include the uncertainty of ``se`` and ``sp`` themselves).
    """
    youden = sensitivity + specificity - 1.0
    if youden <= 0:
        raise ValueError(f"sensitivity + specificity must exceed 1 for a correction, got {sensitivity} + {specificity}")
    if estimate.rate is None or estimate.low is None or estimate.high is None:
        return estimate

    def corrected_compliance(observed_compliance: float) -> float:
        non_compliance = (1.0 - observed_compliance + specificity - 1.0) / youden
        return min(1.0, max(0.0, 1.0 - non_compliance))

    return RateEstimate(
        estimate.successes,
        estimate.n,
        corrected_compliance(estimate.rate),
        corrected_compliance(estimate.low),
        corrected_compliance(estimate.high),
    )


@dataclass(frozen=True)
class ProportionComparison:
    """Two proportions ``before`` and ``after`` and their difference ``after - before`` (a share, not points).

    ``low``/``high`` bound the difference (Newcombe's hybrid score interval); ``z`` and
    ``p_value`` are the pooled two-proportion z-test of "no difference" (two-sided). All are None
    when either side has ``n == 0``.
    """

    before: RateEstimate
    after: RateEstimate
    confidence: float
    difference: float | None
    low: float | None
    high: float | None
    z: float | None
    p_value: float | None


def two_proportion_test(
    successes_before: int, n_before: int, successes_after: int, n_after: int, confidence: float = 0.95
) -> ProportionComparison:
    """Compare ``successes_after / n_after`` with ``successes_before / n_before``.

    The interval of the difference is Newcombe's hybrid score interval (method 10 of Newcombe,
    1998), built from the two Wilson intervals: like them it keeps its coverage for small ``n``
    and rates near 0 or 1, where the plain Wald interval ``d ± z·se`` is too narrow. The p-value
    is the classic pooled z-test (equal to the chi-square test of the 2×2 table without
    continuity correction). When both periods are all compliant (or all not) the pooled
    standard error is 0: ``z = 0`` and ``p = 1``, there being no evidence of a change.

    >>> c = two_proportion_test(62, 100, 71, 100); round(c.difference, 2), round(c.p_value, 3)
    (0.09, 0.178)
    """
    before = wilson_interval(successes_before, n_before, confidence)
    after = wilson_interval(successes_after, n_after, confidence)
    if before.rate is None or after.rate is None:
        return ProportionComparison(before, after, confidence, None, None, None, None, None)
    assert before.low is not None and before.high is not None and after.low is not None and after.high is not None
    difference = after.rate - before.rate
    low = difference - math.sqrt((after.rate - after.low) ** 2 + (before.high - before.rate) ** 2)
    high = difference + math.sqrt((after.high - after.rate) ** 2 + (before.rate - before.low) ** 2)
    pooled = (successes_before + successes_after) / (n_before + n_after)
    standard_error = math.sqrt(pooled * (1.0 - pooled) * (1.0 / n_before + 1.0 / n_after))
    if standard_error == 0.0:
        z, p_value = 0.0, 1.0
    else:
        z = difference / standard_error
        p_value = min(1.0, 2.0 * NormalDist().cdf(-abs(z)))
    return ProportionComparison(before, after, confidence, difference, max(-1.0, low), min(1.0, high), z, p_value)


def lang_reiczigel(estimate: RateEstimate, validation: ValidationCounts, confidence: float = 0.95) -> RateEstimate:
    """Compliance corrected for detector error measured on a validation sample, with an interval for both.

    Lang and Reiczigel (2014), "Confidence limits for prevalence of disease adjusted for estimated
    sensitivity and specificity", Prev. Vet. Med. 113:13-22, their adjusted Wald interval: the
    Rogan–Gladen estimate of the true non-compliance share ``(q + Sp - 1) / (Se + Sp - 1)`` from
    pseudo-count-adjusted proportions (``z²/2`` added to each side of the observed share, 1 to
    each side of ``Se`` and ``Sp``), a delta-method standard error that adds the validation
    sample's variance to the observation sample's, and a shift of the centre that corrects the
    estimator's bias; clipped to [0, 1]. Unlike :func:`rogan_gladen` with fixed ``se``/``sp``, a
    small audit widens the interval as it should. The point estimate is plain Rogan–Gladen from
    the observed proportions. ``estimate`` counts compliant ``successes`` out of ``n`` decided.
    """
    v = validation
    if v.truly_non_compliant <= 0 or v.truly_compliant <= 0:
        raise ValueError("the validation sample needs truly compliant and truly non-compliant observations")
    if estimate.n == 0:
        return estimate
    z = _z(confidence)
    positives = estimate.n - estimate.successes  # judged non-compliant: the "test positives"
    sensitivity = v.judged_non_compliant / v.truly_non_compliant
    specificity = v.judged_compliant / v.truly_compliant
    youden = sensitivity + specificity - 1.0
    if youden <= 0:
        raise ValueError(
            f"the audit finds the verdicts no better than chance (Se {sensitivity:.2f}, Sp {specificity:.2f})"
        )
    point = min(1.0, max(0.0, (positives / estimate.n + specificity - 1.0) / youden))

    n_obs, n_se, n_sp = estimate.n + z * z, v.truly_non_compliant + 2.0, v.truly_compliant + 2.0
    q = (positives + z * z / 2.0) / n_obs
    se = (v.judged_non_compliant + 1.0) / n_se
    sp = (v.judged_compliant + 1.0) / n_sp
    adjusted_youden = se + sp - 1.0
    prevalence = (q + sp - 1.0) / adjusted_youden
    standard_error = math.sqrt(
        q * (1 - q) / n_obs + prevalence**2 * se * (1 - se) / n_se + (1 - prevalence) ** 2 * sp * (1 - sp) / n_sp
    ) / abs(adjusted_youden)
    shift = 2.0 * z * z * (prevalence * se * (1 - se) / n_se - (1 - prevalence) * sp * (1 - sp) / n_sp)
    low_prevalence = min(1.0, max(0.0, prevalence + shift - z * standard_error))
    high_prevalence = min(1.0, max(0.0, prevalence + shift + z * standard_error))
    # Non-compliance bounds become compliance bounds, mirrored.
    return RateEstimate(estimate.successes, estimate.n, 1.0 - point, 1.0 - high_prevalence, 1.0 - low_prevalence)
