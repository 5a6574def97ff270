"""Per-site compliance rates over time windows, from the store's observations."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo

import numpy as np

from vision.clock import DailyPeriod, offset_spans, wall_from_seconds, wall_time, zone_named
from vision.compliance.stats import RateEstimate, lang_reiczigel, rogan_gladen, wilson_interval
from vision.config import VisionConfig
from vision.errors import VisionError
from vision.outcome import Outcome, ValidationCounts
from vision.store.audits import AuditCounts
from vision.store.counts import OUTCOME_SLOTS, CountQuery
from vision.store.database import Store
from vision.store.schema import from_epoch

BUCKET_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
# What a rate counts: each person once (an observation), or each two-wheeler once (a trip, per vehicle).
UNITS = ("person", "vehicle")
_STORE_UNIT = {"person": "person", "vehicle": "trip"}


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
    the configured minimum. ``start`` and ``end`` are in the site's zone; ``period`` names the
    daily period the counts were kept to (None: the whole window). ``adjusted`` is the rate
    corrected for the verdicts' error, measured by the site's own audit (``adjusted_source``
    ``"audit"``, Lang & Reiczigel interval) once it has ``min_audit_marks`` marks, else by the
    model card (``"model_card"``, Rogan–Gladen); None when neither is known.

    ``unit="vehicle"``: every count is of trips (two-wheelers that carried riders, one each, the unit
    a ticket is written for). A trip is non-compliant when any of its riders was judged so, compliant
    when all were judged compliant, else undetermined; ``non_rider`` is 0; ``passengers`` counts the
    trips with two or more riders among all of them, and ``passenger_rate`` is that share of all trips
    with its Wilson interval (the passenger-carrying rate). No adjusted rate: the detector's error is
    measured per person.
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
    period: str | None = None
    adjusted_source: str | None = None
    unit: str = "person"
    passenger_rate: RateEstimate | None = None

    @property
    def n(self) -> int:
        """Decided observations: ``compliant + non_compliant`` (never undetermined or non-rider)."""
        return self.compliant + self.non_compliant


def confidently_below(point: RatePoint, threshold: float) -> bool:
    """The whole interval under ``threshold``, on at least the minimum of decided observations."""
    high = point.estimate.high
    return high is not None and high < threshold and not point.low_sample


def detector_errors(config: VisionConfig) -> dict[str, DetectorError]:
    """Each category's measured verdict error, from the first camera spec of that category that has one."""
    from vision.detectors.spec import load_spec, measured_error

    errors: dict[str, DetectorError] = {}
    for camera in config.cameras:
        if camera.category.value not in errors and (measured := measured_error(load_spec(camera.model))):
            errors[camera.category.value] = DetectorError(*measured)
    return errors


@dataclass(frozen=True)
class RateSettings:
    """What every question about rates shares: interval level, minimum n, error, zones, periods, targets.

    ``zone`` is the deployment's; ``site_zones`` the sites that override it. ``periods`` are the
    named daily periods, in local time of each site. ``thresholds`` are the sites' own alert
    targets; the others use ``default_threshold``.
    """

    confidence: float = 0.95
    min_n: int = 30
    detector_errors: Mapping[str, DetectorError] = field(default_factory=dict)
    zone: tzinfo = UTC
    site_zones: Mapping[str, tzinfo] = field(default_factory=dict)
    periods: Mapping[str, DailyPeriod] = field(default_factory=dict)
    thresholds: Mapping[str, float] = field(default_factory=dict)
    default_threshold: float = 0.9
    min_audit_marks: int = 30
    vehicle_threshold: float | None = None  # per two-wheeler's target (alerts.vehicle_threshold); None: the site's

    @classmethod
    def from_config(cls, config: VisionConfig, errors: Mapping[str, DetectorError] | None = None) -> RateSettings:
        """The config's settings; ``errors`` default to the measured error of the cameras' model specs."""
        return cls(
            confidence=config.compliance.confidence,
            min_n=config.compliance.min_n,
            detector_errors=detector_errors(config) if errors is None else errors,
            zone=zone_named(config.timezone),
            site_zones={site.id: zone_named(site.timezone) for site in config.sites if site.timezone},
            periods=config.compliance.daily_periods(),
            thresholds={site.id: site.threshold for site in config.sites if site.threshold},
            default_threshold=config.alerts.default_threshold,
            min_audit_marks=config.compliance.min_audit_marks,
            vehicle_threshold=config.alerts.vehicle_threshold,
        )


class RateService:
    """The one place rates are computed: the API, alerts, metrics, reports and the CLI all ask it.

    Windows are in each site's local time (day buckets run from local midnight to midnight, also
    on a daylight-saving day of 23 or 25 hours); times come back zone-aware in the site's zone.
    """

    def __init__(self, store: Store, settings: RateSettings | None = None) -> None:
        self.store = store
        self.settings = settings or RateSettings()

    @classmethod
    def from_config(
        cls, store: Store, config: VisionConfig, errors: Mapping[str, DetectorError] | None = None
    ) -> RateService:
        return cls(store, RateSettings.from_config(config, errors))

    def zone(self, site_id: str) -> tzinfo:
        """The site's time zone (its own, else the deployment's)."""
        return self.settings.site_zones.get(site_id, self.settings.zone)

    def threshold(self, site_id: str, unit: str = "person") -> float:
        """The site's target; per vehicle, ``alerts.vehicle_threshold`` when it is set."""
        if unit == "vehicle" and self.settings.vehicle_threshold is not None:
            return self.settings.vehicle_threshold
        return self.settings.thresholds.get(site_id, self.settings.default_threshold)

    def confidently_below(self, point: RatePoint) -> bool:
        """Whether the point's whole interval lies under its target, on enough observations: the one rule
        alerts, the API (its points, current rates and the dashboard's badge) and reports use."""
        return confidently_below(point, self.threshold(point.site_id, point.unit))

    def period(self, name: str) -> DailyPeriod:
        """The named daily period; VisionError listing the configured ones when unknown."""
        try:
            return self.settings.periods[name]
        except KeyError:
            known = ", ".join(sorted(self.settings.periods)) or "none configured (compliance.periods)"
            raise VisionError(f"unknown period {name!r} (known: {known})") from None

    def audit_error(self, site_id: str, category: str) -> ValidationCounts | None:
        """The site's audit 2×2 table, once it has enough marks and says more than chance; else None."""
        return self._usable_audit(self.store.audit_counts(site_id, category))

    def _usable_audit(self, counts: AuditCounts) -> ValidationCounts | None:
        v = counts.validation
        if counts.marked < self.settings.min_audit_marks or not v.truly_compliant or not v.truly_non_compliant:
            return None
        if v.judged_non_compliant / v.truly_non_compliant + v.judged_compliant / v.truly_compliant <= 1:
            return None
        return v

    def _adjusted(
        self, category: str, estimate: RateEstimate, audit: ValidationCounts | None
    ) -> tuple[RateEstimate | None, str | None]:
        if audit is not None:
            return lang_reiczigel(estimate, audit, self.settings.confidence), "audit"
        error = self.settings.detector_errors.get(category)
        if error is not None:
            return rogan_gladen(estimate, error.sensitivity, error.specificity), "model_card"
        return None, None

    def period_windows(
        self, site_id: str, start: datetime, end: datetime, period: str | None
    ) -> list[tuple[float, float]]:
        """``(from, to)`` epoch seconds of ``[start, end)``, or of each local day's ``period`` in it."""
        if period is None:
            return [(start.timestamp(), end.timestamp())]
        return self.period(period).windows(start, end, self.zone(site_id))

    def utc_offset_s(self, site_id: str, at: datetime) -> int:
        offset = at.astimezone(self.zone(site_id)).utcoffset()
        return int(offset.total_seconds()) if offset is not None else 0

    def rates(
        self,
        start: datetime,
        end: datetime,
        bucket: str | None = None,
        *,
        site_id: str | None = None,
        category: str | None = None,
        period: str | None = None,
        run_id: int | None = None,
        unit: str = "person",
    ) -> list[RatePoint]:
        """Rates per site and category, per local ``bucket`` (``minute``/``hour``/``day``) or over the range,
        of people (``unit="person"``) or of two-wheelers' trips (``"vehicle"``, see :class:`RatePoint`).

        ``period`` (a configured daily period) keeps only observations in that part of each local
        day; its buckets are ``day`` (one point per day, the window being that day's period) or the
        whole range. Windows without any observation are left out; ``run_id`` narrows to one
        run's observations (coverage still counts every run's up-time in the window).
        """
        if bucket is not None and bucket not in BUCKET_SECONDS:
            raise VisionError(f"bucket {bucket!r}: expected one of {', '.join(BUCKET_SECONDS)} or none")
        if unit not in UNITS:
            raise VisionError(f"unit {unit!r}: expected one of {', '.join(UNITS)}")
        daily = self.period(period) if period is not None else None
        if daily is not None and bucket not in (None, "day"):
            raise VisionError(
                f"period {period!r}: rates of a period are per day or over the whole range, not per {bucket}"
            )
        points: list[RatePoint] = []
        for zone, site_ids, exclude in self._zone_groups(site_id):
            points += self._rates_in_zone(zone, site_ids, exclude, start, end, bucket, category, daily, run_id, unit)
        return sorted(points, key=lambda p: (p.site_id, p.category, p.start.timestamp()))

    def _zone_groups(self, site_id: str | None) -> list[tuple[tzinfo, set[str] | None, set[str]]]:
        """``(zone, sites or None for all, sites to leave out)``: one store query each."""
        if site_id is not None:
            return [(self.zone(site_id), {site_id}, set())]
        by_zone: dict[str, tuple[tzinfo, set[str]]] = {}
        for site, zone in self.settings.site_zones.items():
            by_zone.setdefault(str(zone), (zone, set()))[1].add(site)
        overridden = set(self.settings.site_zones)
        return [(self.settings.zone, None, overridden), *((zone, sites, set()) for zone, sites in by_zone.values())]

    def _rates_in_zone(
        self,
        zone: tzinfo,
        site_ids: set[str] | None,
        exclude: set[str],
        start: datetime,
        end: datetime,
        bucket: str | None,
        category: str | None,
        daily: DailyPeriod | None,
        run_id: int | None,
        unit: str,
    ) -> list[RatePoint]:
        settings = self.settings
        per_vehicle = unit == "vehicle"
        bucket_seconds = BUCKET_SECONDS[bucket] if bucket is not None else None
        spans = offset_spans(zone, start.timestamp(), end.timestamp())
        query = CountQuery(
            start.timestamp(),
            end.timestamp(),
            bucket_seconds,
            category=category,
            run_id=run_id,
            site_ids=site_ids,
            exclude_site_ids=exclude,
            utc_offsets=[(span.start, span.end, span.utc_offset_s) for span in spans],
            daily=(daily.start_s, daily.length_s) if daily else None,
            unit=_STORE_UNIT[unit],
        )
        # Keyed by epoch seconds: datetimes of one zone compare by wall time, so the two 01:00 hours of
        # the night daylight saving ends would be one key. A window depends on the bucket alone, so it is
        # worked out once per bucket, not once per tally (a 90-day series of 62 sites: 5.6 k tallies, 91 days).
        size = len(OUTCOME_SLOTS)
        counts: dict[tuple[str, str, float], list[int]] = {}
        windows: dict[tuple[int, int], tuple[tuple[datetime, datetime], float]] = {}
        window_of_key: dict[tuple[str, str, float], tuple[datetime, datetime]] = {}
        for (site, cat, bucket_index, offset), tally in self.store.tallies_of(query).items():
            known = windows.get((bucket_index, offset))
            if known is None:
                window = self._window(bucket_index, offset, zone, bucket_seconds, daily, start, end)
                known = windows[(bucket_index, offset)] = (window, window[0].timestamp())
            window, begin = known
            key = (site, cat, begin)
            point = counts.get(key)
            if point is None:  # outcomes, then passengers: of every trip per vehicle, else of decided heads
                point = counts[key] = [0] * (size + 1)
                window_of_key[key] = window
            for slot in range(size):
                point[slot] += tally[slot]
            shared = tally[size:]
            decided = shared[OUTCOME_SLOTS[Outcome.COMPLIANT]] + shared[OUTCOME_SLOTS[Outcome.NON_COMPLIANT]]
            point[-1] += sum(shared) if per_vehicle else decided
        camera_site = {c.id: [(c.site_id, category) for category in c.categories] for c in self.store.cameras()}
        # Every site's audit table in one query (a series of every site asks once, not once a site).
        audits = {} if per_vehicle else {k: self._usable_audit(c) for k, c in self.store.all_audit_counts().items()}
        coverage = self._coverage(
            window_of_key, self.store.uptime_intervals(start, end), camera_site, zone, daily, start, end
        )
        points = []
        for key, tally in counts.items():
            site, cat, _ = key
            window_start, window_end = window_of_key[key]
            compliant = tally[OUTCOME_SLOTS[Outcome.COMPLIANT]]
            non_compliant = tally[OUTCOME_SLOTS[Outcome.NON_COMPLIANT]]
            estimate = wilson_interval(compliant, compliant + non_compliant, settings.confidence)
            adjusted, source = (None, None) if per_vehicle else self._adjusted(cat, estimate, audits.get((site, cat)))
            trips = sum(tally[:-1])
            passenger_rate = wilson_interval(tally[-1], trips, settings.confidence) if per_vehicle else None
            points.append(
                RatePoint(
                    site_id=site,
                    category=cat,
                    start=window_start,
                    end=window_end,
                    compliant=compliant,
                    non_compliant=non_compliant,
                    undetermined=tally[OUTCOME_SLOTS[Outcome.UNDETERMINED]],
                    non_rider=tally[OUTCOME_SLOTS[Outcome.NON_RIDER]],
                    passengers=tally[-1],
                    estimate=estimate,
                    adjusted=adjusted,
                    adjusted_source=source,
                    coverage_s=coverage[key],
                    low_sample=compliant + non_compliant < settings.min_n,
                    period=daily.name if daily else None,
                    unit=unit,
                    passenger_rate=passenger_rate,
                )
            )
        return points

    @staticmethod
    def _coverage(
        windows: Mapping[tuple[str, str, float], tuple[datetime, datetime]],
        uptime: list[tuple[str, float, float]],
        camera_site: Mapping[str, list[tuple[str, str]]],
        zone: tzinfo,
        daily: DailyPeriod | None,
        start: datetime,
        end: datetime,
    ) -> dict[tuple[str, str, float], float]:
        """Camera-seconds each point's site and category delivered frames in its window (clipped to
        ``[start, end)``, and to each day's period when ``daily``): per site, every window against every
        up-interval of its cameras at once, as arrays."""
        intervals: dict[tuple[str, str] | None, list[tuple[float, float]]] = defaultdict(list)
        for camera, up_from, up_to in uptime:  # a camera's uptime covers each category it measures
            for site_category in camera_site.get(camera, ()):
                intervals[site_category].append((up_from, up_to))
        keys_by_site: dict[tuple[str, str], list[tuple[str, str, float]]] = defaultdict(list)
        for key in windows:
            keys_by_site[(key[0], key[1])].append(key)
        coverage: dict[tuple[str, str, float], float] = {}
        for site, keys in keys_by_site.items():
            up = np.asarray(intervals.get(site, ()), dtype=np.float64).reshape(-1, 2)
            spans: list[tuple[float, float]] = []
            owner: list[int] = []
            for index, key in enumerate(keys):
                lo, hi = max(windows[key][0], start), min(windows[key][1], end)
                covered = daily.windows(lo, hi, zone) if daily is not None else [(lo.timestamp(), hi.timestamp())]
                spans += covered
                owner += [index] * len(covered)
            if not spans or not len(up):
                coverage.update(dict.fromkeys(keys, 0.0))
                continue
            span = np.asarray(spans, dtype=np.float64)
            overlap = np.minimum(span[:, 1:2], up[None, :, 1]) - np.maximum(span[:, 0:1], up[None, :, 0])
            per_span = np.clip(overlap, 0.0, None).sum(axis=1)
            per_key = np.bincount(np.asarray(owner), weights=per_span, minlength=len(keys))
            coverage.update(zip(keys, per_key.tolist(), strict=True))
        return coverage

    @staticmethod
    def _window(
        bucket: int,
        utc_offset_s: int,
        zone: tzinfo,
        bucket_seconds: int | None,
        daily: DailyPeriod | None,
        start: datetime,
        end: datetime,
    ) -> tuple[datetime, datetime]:
        """The zone-aware window of count bucket ``bucket`` counted at ``utc_offset_s`` (:class:`CountRow`)."""
        if bucket_seconds is None:
            return start.astimezone(zone), end.astimezone(zone)
        if daily is not None:  # day k of the period
            return daily.window(wall_from_seconds(bucket * 86400).date(), zone)
        if bucket_seconds == BUCKET_SECONDS["day"]:  # local midnight to midnight: 23 or 25 h on a DST day
            midnight = wall_from_seconds(bucket * 86400)
            return wall_time(midnight, zone), wall_time(midnight + timedelta(days=1), zone)
        begin = from_epoch(bucket * bucket_seconds - utc_offset_s).astimezone(zone)
        return begin, begin + timedelta(seconds=bucket_seconds)
