"""Per-site compliance rates over time windows, from the store's observations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from vision.compliance.stats import RateEstimate, rogan_gladen, wilson_interval
from vision.config import VisionConfig
from vision.outcome import Outcome
from vision.store.database import Store, from_epoch

BUCKET_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


@dataclass(frozen=True)
class DetectorError:
    """Measured on labelled data: P(judged non-compliant | non-compliant), P(judged compliant | compliant)."""

    sensitivity: float
    specificity: float


@dataclass(frozen=True)
class RatePoint:
    """One site, category and window; every count is of observations (one per person).

    ``estimate.rate`` is ``compliant / (compliant + non_compliant)`` with its Wilson interval.
    ``undetermined`` (too small or too short to judge) and ``non_rider`` (a head that never rode a
    moving two-wheeler, at a camera that counts riders only) are counted beside it, never inside:
    neither is in ``n``. ``passengers`` is the part of ``n`` (compliant or non-compliant) whose
    head shared its two-wheeler with another head (``riders_on_vehicle >= 2``); it is in the rate.
    ``coverage_s`` is the camera-seconds the site's cameras of this category delivered frames in
    the window (two cameras up for the whole hour give 7200). ``low_sample`` flags ``n`` under
    the configured minimum.
    """

    site_id: str
    category: str
    start: datetime
    end: datetime
    compliant: int
    non_compliant: int
    undetermined: int
    non_rider: int
    passengers: int
    estimate: RateEstimate
    adjusted: RateEstimate | None
    coverage_s: float
    low_sample: bool

    @property
    def n(self) -> int:
        """Decided observations: ``compliant + non_compliant`` (never undetermined or non-rider)."""
        return self.compliant + self.non_compliant


def detector_errors(config: VisionConfig) -> dict[str, DetectorError]:
    """Each category's measured verdict error, from the first camera spec of that category that has one."""
    from vision.detectors.spec import load_spec, measured_error

    errors: dict[str, DetectorError] = {}
    for camera in config.cameras:
        if camera.category.value not in errors and (measured := measured_error(load_spec(camera.model))):
            errors[camera.category.value] = DetectorError(*measured)
    return errors


def _overlap(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    return max(0.0, min(a_end, b_end) - max(a_start, b_start))


def compute_rates(
    store: Store,
    start: datetime,
    end: datetime,
    bucket: str | None,
    confidence: float = 0.95,
    min_n: int = 30,
    site_id: str | None = None,
    category: str | None = None,
    detector_errors: Mapping[str, DetectorError] | None = None,
    run_id: int | None = None,
) -> list[RatePoint]:
    """Rates per site and category, per ``bucket`` (``minute``/``hour``/``day``) or, with ``None``, over the range.

    Windows without any observation are left out. ``detector_errors`` maps a category to its
    measured error, for the Rogan-Gladen adjusted rate; ``run_id`` narrows to one run's observations
    (coverage still counts every run's up-time in the window).
    """
    bucket_seconds = BUCKET_SECONDS[bucket] if bucket is not None else None
    counts: dict[tuple[str, str, float], dict[Outcome, int]] = defaultdict(lambda: dict.fromkeys(Outcome, 0))
    shared: dict[tuple[str, str, float], dict[Outcome, int]] = defaultdict(lambda: dict.fromkeys(Outcome, 0))
    for row in store.counts(start, end, bucket_seconds, site_id=site_id, category=category, run_id=run_id):
        key = (row.site_id, row.category, row.bucket_start)
        counts[key][row.outcome] += row.count
        shared[key][row.outcome] += row.shared_vehicle
    camera_site = {str(c["id"]): (str(c["site_id"]), str(c["category"])) for c in store.cameras()}
    intervals = store.uptime_intervals(start, end)
    points = []
    for key, by_outcome in sorted(counts.items()):
        site, cat, bucket_start = key
        window_start = from_epoch(bucket_start)
        window_end = window_start + timedelta(seconds=bucket_seconds) if bucket_seconds else end
        lo, hi = max(window_start, start).timestamp(), min(window_end, end).timestamp()
        coverage = sum(
            _overlap(lo, hi, begin, finish)
            for camera, begin, finish in intervals
            if camera_site.get(camera) == (site, cat)
        )
        compliant, non_compliant = by_outcome[Outcome.COMPLIANT], by_outcome[Outcome.NON_COMPLIANT]
        estimate = wilson_interval(compliant, compliant + non_compliant, confidence)
        error = (detector_errors or {}).get(cat)
        points.append(
            RatePoint(
                site_id=site,
                category=cat,
                start=window_start,
                end=window_end,
                compliant=compliant,
                non_compliant=non_compliant,
                undetermined=by_outcome[Outcome.UNDETERMINED],
                non_rider=by_outcome[Outcome.NON_RIDER],
                passengers=shared[key][Outcome.COMPLIANT] + shared[key][Outcome.NON_COMPLIANT],
                estimate=estimate,
                adjusted=rogan_gladen(estimate, error.sensitivity, error.specificity) if error else None,
                coverage_s=coverage,
                low_sample=compliant + non_compliant < min_n,
            )
        )
    return points
