"""The numbers of a compliance report, gathered from a store: no output, no rendering.

Times are zone-aware ``datetime`` values, in each site's zone: a day bucket is the site's local day
and a daily period (``compliance.periods``) its local hours. Rates are shares in [0, 1];
differences are shares too (0.09 is 9 percentage points).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from tqdm import tqdm

from vision.categories import N_, Category, category_info
from vision.compliance.rates import BUCKET_SECONDS, RatePoint, RateService, RateSettings
from vision.compliance.stats import ProportionComparison, RateEstimate, two_proportion_test
from vision.config import VisionConfig
from vision.errors import VisionError
from vision.evidence.writer import open_sink
from vision.i18n import Translator
from vision.outcome import Outcome
from vision.store.audits import AuditCounts
from vision.store.database import Store

REPORT_BUCKETS = ("hour", "day")
BUCKET_NAMES = {"minute": N_("minute"), "hour": N_("hour"), "day": N_("day")}
ENGLISH = Translator("en")


def parse_time(text: str, option: str) -> datetime:
    """An ISO 8601 time with a zone (``2026-11-02T08:00:00+01:00`` or ``...Z``); VisionError otherwise."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise VisionError(
            f"{option} {text!r}: not an ISO 8601 time; give e.g. 2026-11-02T08:00:00+01:00 or 2026-11-02T07:00:00Z"
        ) from error
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise VisionError(
            f"{option} {text!r}: needs a time zone, e.g. {moment.isoformat()}+01:00 or {moment.isoformat()}Z"
            " (the store keeps UTC; a time without zone is ambiguous)"
        )
    return moment


@dataclass(frozen=True)
class Period:
    """``start <= ended_at < end``."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start >= self.end:
            raise VisionError(f"period {self.label}: the start must be before the end")

    @property
    def label(self) -> str:
        """E.g. ``2026-11-02 08:00 – 2026-11-03 08:00 UTC``."""
        return self.label_in(UTC)

    def label_in(self, zone: tzinfo) -> str:
        """E.g. ``2026-11-02 00:00 – 2026-11-03 00:00 Asia/Shanghai`` (local times of ``zone``)."""
        start, end = self.start.astimezone(zone), self.end.astimezone(zone)
        return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} {zone}"

    def overlaps(self, other: Period) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class DailyPeriodReport:
    """One configured daily period (e.g. ``morning_peak`` 07:00-09:00) at one site and category.

    ``total`` is the period's hours over the whole report period, ``per_day`` one point per local
    day, ``before``/``after`` the same split as the site's comparison, kept to these hours.
    """

    name: str
    local_time: str
    total: RatePoint | None
    per_day: tuple[RatePoint, ...]
    before: RatePoint | None
    after: RatePoint | None
    comparison: ProportionComparison
    sentence: str


@dataclass(frozen=True)
class AuditReport:
    """What a site's audit says: its marks, the error they measure, which error the adjusted rate uses.

    ``source`` is ``"audit"``, ``"model_card"`` or None; ``examples`` maps an outcome to the crop
    JPEGs (bytes) of a few of its latest observations whose pixels are still kept.
    """

    counts: AuditCounts
    source: str | None
    min_marks: int
    examples: Mapping[str, tuple[bytes, ...]]


@dataclass(frozen=True)
class SiteReport:
    """One site and category: the whole period, its buckets, and the before/after comparison.

    ``total``, ``before`` and ``after`` are None when that period has no observations at all.
    ``sentence`` says the comparison in plain English; ``caution`` is a note when either period
    has fewer decided observations than the configured minimum (else empty).
    """

    site_id: str
    site_name: str
    category: str
    total: RatePoint | None
    trend: tuple[RatePoint, ...]
    before: RatePoint | None
    after: RatePoint | None
    comparison: ProportionComparison
    sentence: str
    caution: str
    zone: tzinfo = UTC
    periods: tuple[DailyPeriodReport, ...] = ()
    audit: AuditReport | None = None
    threshold: float = 0.9  # the site's target
    per_vehicle: RatePoint | None = None  # the whole period per two-wheeler (unit="vehicle"), None without trips
    vehicle_threshold: float = 0.9  # its target (alerts.vehicle_threshold, else the site's)


@dataclass(frozen=True)
class RankEntry:
    """``overlaps_next``: this site's interval overlaps the next-ranked site's."""

    rank: int
    site: SiteReport
    overlaps_next: bool


@dataclass(frozen=True)
class Ranking:
    """Sites of one category with decided observations, highest rate first, and what the order means."""

    category: str
    entries: tuple[RankEntry, ...]
    statement: str


@dataclass(frozen=True)
class Report:
    """Everything a report shows. ``comparison_source`` is ``"halves"`` or ``"given"``; ``zone`` is the config's."""

    period: Period
    bucket: str
    confidence: float
    min_n: int
    before_period: Period
    after_period: Period
    comparison_source: str
    sites: tuple[SiteReport, ...]
    rankings: tuple[Ranking, ...]
    notes: tuple[str, ...]
    generated_at: datetime
    zone: tzinfo = UTC
    language: str = "en"

    @property
    def has_observations(self) -> bool:
        """Whether the main period holds any observation (decided or not)."""
        return any(site.total is not None for site in self.sites)


def format_points(share: float) -> str:
    """A difference in percentage points with its sign, e.g. ``+9`` or ``-3``."""
    points = round(share * 100)
    return f"{points:+d}" if points else "0"


def format_p(p_value: float) -> str:
    """``p = 0.01``, ``p = 0.004``, ``p < 0.001``."""
    if p_value < 0.001:
        return "p < 0.001"
    if p_value < 0.01:
        return f"p = {p_value:.3f}"
    return f"p = {p_value:.2f}"


def category_title(category: str, tr: Translator = ENGLISH) -> str:
    """What the category's rate measures, e.g. 'Helmet wearing', in ``tr``'s language."""
    _ = tr.gettext
    if category in {c.value for c in Category}:
        return _(category_info(category).title)
    return _("{category} compliance").format(category=category.capitalize())


def comparison_sentence(
    site_name: str, category: str, comparison: ProportionComparison, tr: Translator = ENGLISH
) -> str:
    """One plain sentence on the change between the two periods, in ``tr``'s language.

    Significance is judged at ``1 - comparison.confidence`` (0.05 for 95 %). Displayed rates are
    whole percents and the displayed change is their difference, so the sentence adds up.
    """
    _ = tr.gettext
    noun = _("{title} at {site}").format(title=category_title(category, tr), site=site_name)
    before, after = comparison.before, comparison.after
    if before.rate is None and after.rate is None:
        return _("{noun} cannot be compared: the first and second periods have no decided observations.").format(
            noun=noun
        )
    if before.rate is None or after.rate is None:
        if before.rate is None:
            return _("{noun} cannot be compared: the first period has no decided observations.").format(noun=noun)
        return _("{noun} cannot be compared: the second period has no decided observations.").format(noun=noun)
    assert comparison.low is not None and comparison.high is not None and comparison.p_value is not None
    before_pct, after_pct = round(before.rate * 100), round(after.rate * 100)
    change = after_pct - before_pct
    if change > 0:
        movement = _("rose from {before}% to {after}%").format(before=before_pct, after=after_pct)
    elif change < 0:
        movement = _("fell from {before}% to {after}%").format(before=before_pct, after=after_pct)
    elif before.rate == after.rate:
        movement = _("stayed at {after}%").format(after=after_pct)
    else:
        movement = _("stayed at about {after}%").format(after=after_pct)
    interval = _("{level} CI {low} to {high}").format(
        level=f"{comparison.confidence:.0%}", low=format_points(comparison.low), high=format_points(comparison.high)
    )
    change_text = _("{change} points").format(change=f"{change:+d}" if change else "0")
    if comparison.p_value < 1.0 - comparison.confidence:
        verdict = _("a change this large would be unlikely by chance ({p})").format(p=format_p(comparison.p_value))
    else:
        verdict = _("the difference is within what chance alone produces ({p})").format(p=format_p(comparison.p_value))
    return _("{noun} {movement} ({change}, {interval}); {verdict}.").format(
        noun=noun, movement=movement, change=change_text, interval=interval, verdict=verdict
    )


def _intervals_overlap(a: RateEstimate, b: RateEstimate) -> bool:
    assert a.low is not None and a.high is not None and b.low is not None and b.high is not None
    return a.low <= b.high and b.low <= a.high


def rank_sites(sites: Sequence[SiteReport], category: str, tr: Translator = ENGLISH) -> Ranking:
    """Rank one category's sites by their rate over the period, and say whether the order is significant.

    Neighbours whose intervals overlap are named: their order could be chance. (Non-overlapping
    intervals are a conservative check: two sites whose intervals touch may still differ.)
    """
    ranked = sorted(
        (
            (site, site.total.estimate)
            for site in sites
            if site.category == category and site.total is not None and site.total.estimate.rate is not None
        ),
        key=lambda item: (-(item[1].rate or 0.0), -item[1].n, item[0].site_name),
    )
    entries = []
    overlapping = []
    for index, (site, estimate) in enumerate(ranked):
        overlaps = index + 1 < len(ranked) and _intervals_overlap(estimate, ranked[index + 1][1])
        if overlaps:
            overlapping.append((site.site_name, ranked[index + 1][0].site_name))
        entries.append(RankEntry(index + 1, site, overlaps))
    _ = tr.gettext
    if len(ranked) < 2:
        statement = _("Fewer than two sites have decided observations: there is nothing to rank.")
    elif not overlapping:
        statement = _("No two neighbouring sites' intervals overlap: the order of the sites is clear.")
    elif len(overlapping) == len(ranked) - 1 and _intervals_overlap(ranked[0][1], ranked[-1][1]):
        statement = _(
            "All sites' intervals overlap, so this ranking is not significant: the order could be chance alone."
        )
    else:
        pairs = _("; ").join(_("{a} and {b}").format(a=a, b=b) for a, b in overlapping)
        statement = _(
            "The intervals of {pairs} overlap, so the order between them is not significant (it could be chance);"
            " the other neighbours' intervals do not overlap."
        ).format(pairs=pairs)
    return Ranking(category, tuple(entries), statement)


def _caution(before: RatePoint | None, after: RatePoint | None, min_n: int, tr: Translator = ENGLISH) -> str:
    n_before = before.n if before else 0
    n_after = after.n if after else 0
    if n_before == 0 or n_after == 0 or (n_before >= min_n and n_after >= min_n):
        return ""  # nothing to caution about, or nothing compared (the sentence says so)
    return tr(
        "Few decided observations ({before} in the first period, {after} in the second; the minimum is"
        " {minimum}): read with caution."
    ).format(before=n_before, after=n_after, minimum=min_n)


def _one(points: list[RatePoint]) -> RatePoint | None:
    """The single whole-range point of one site and category, or None without observations."""
    if len(points) > 1:  # pragma: no cover - the rate service with bucket=None and both filters gives at most one
        raise AssertionError(f"expected one point, got {len(points)}")
    return points[0] if points else None


def report_pairs(
    config: VisionConfig, store: Store, periods: Sequence[Period], sites: Sequence[str], category: str | None
) -> list[tuple[str, str]]:
    """The ``(site_id, category)`` pairs to report: the config's cameras, plus any with observations in ``periods``.

    ``sites`` (ids) narrows the list; an id that neither the config nor the store knows is a VisionError.
    """
    known = {site.id for site in config.sites} | {row.id for row in store.sites()}
    unknown = sorted(set(sites) - known)
    if unknown:
        raise VisionError(f"--site: unknown site(s) {unknown} (known: {sorted(known)})")
    pairs = {(camera.site, camera.category.value) for camera in config.cameras}
    for period in periods:
        pairs |= {(row.site_id, row.category) for row in store.counts(period.start, period.end, None)}
    return sorted((s, c) for s, c in pairs if (not sites or s in sites) and (category is None or c == category))


def site_names(config: VisionConfig, store: Store) -> dict[str, str]:
    """Site id -> display name: the config's, else the store's (a site since removed from the config)."""
    names = {row.id: row.name for row in store.sites()}
    names.update({site.id: site.name for site in config.sites})
    return names


def build_report(
    store: Store,
    config: VisionConfig,
    period: Period,
    bucket: str = "day",
    sites: Sequence[str] = (),
    category: str | None = None,
    compare: Period | None = None,
    rates: RateService | None = None,
    notes: Sequence[str] = (),
    progress: bool = False,
    language: str | None = None,
) -> Report:
    """Gather a report over ``period``: per site totals, ``bucket`` trend, ranking and before/after comparison.

    Without ``compare`` the comparison is the first half of ``period`` against the second;
    with it, the earlier of ``compare`` and ``period`` is "before". ``notes`` are carried into
    the report (e.g. why adjusted rates are missing); ``progress`` shows a tqdm bar on stderr.
    ``rates`` answers the rate questions (default: the config's settings without adjusted rates);
    each configured daily period gets its own totals, days and comparison. ``language`` (default:
    the config's) is that of the report's sentences.
    """
    tr = Translator(language or config.language)
    _ = tr.gettext
    if bucket not in REPORT_BUCKETS:
        raise VisionError(f"--bucket {bucket!r}: expected one of {', '.join(REPORT_BUCKETS)}")
    rates = rates or RateService(store, RateSettings.from_config(config, errors={}))
    confidence, min_n = rates.settings.confidence, rates.settings.min_n
    all_notes = list(notes)
    if compare is None:
        middle = period.start + (period.end - period.start) / 2
        before_period, after_period = Period(period.start, middle), Period(middle, period.end)
        source = "halves"
    else:
        before_period, after_period = sorted((compare, period), key=lambda p: (p.start, p.end))
        source = "given"
        if compare.overlaps(period):
            all_notes.append(
                _(
                    "The two compared periods overlap: observations in both are counted twice, and the test,"
                    " which assumes independent samples, overstates the evidence."
                )
            )
    span_s = (period.end - period.start).total_seconds()
    if span_s / BUCKET_SECONDS[bucket] > 2000:
        all_notes.append(
            _("{count} {bucket} buckets: consider a coarser --bucket.").format(
                count=f"{span_s / BUCKET_SECONDS[bucket]:.0f}", bucket=_(BUCKET_NAMES[bucket])
            )
        )
    names = site_names(config, store)
    pairs = report_pairs(config, store, (period, before_period, after_period), sites, category)
    reports = []
    for site_id, cat in tqdm(pairs, desc="report", unit="site", disable=not progress):

        def points(
            window: Period,
            bucket_name: str | None,
            daily: str | None = None,
            site_id: str = site_id,
            cat: str = cat,
        ) -> list[RatePoint]:
            return rates.rates(window.start, window.end, bucket_name, site_id=site_id, category=cat, period=daily)

        total, trend = _one(points(period, None)), points(period, bucket)
        before, after = _one(points(before_period, None)), _one(points(after_period, None))
        comparison = _compare(before, after, confidence)
        name = names.get(site_id, site_id)
        daily_reports = []
        for daily in rates.settings.periods.values():
            daily_before = _one(points(before_period, None, daily.name))
            daily_after = _one(points(after_period, None, daily.name))
            daily_comparison = _compare(daily_before, daily_after, confidence)
            daily_reports.append(
                DailyPeriodReport(
                    name=daily.name,
                    local_time=daily.text,
                    total=_one(points(period, None, daily.name)),
                    per_day=tuple(points(period, "day", daily.name)),
                    before=daily_before,
                    after=daily_after,
                    comparison=daily_comparison,
                    sentence=comparison_sentence(
                        _("{site}, {period}").format(site=name, period=daily.name.replace("_", " ")),
                        cat,
                        daily_comparison,
                        tr,
                    ),
                )
            )
        audit = _audit_report(store, config, rates, site_id, cat, period, total)
        reports.append(
            SiteReport(
                site_id=site_id,
                site_name=name,
                category=cat,
                total=total,
                trend=tuple(trend),
                before=before,
                after=after,
                comparison=comparison,
                sentence=comparison_sentence(name, cat, comparison, tr),
                caution=_caution(before, after, min_n, tr),
                zone=rates.zone(site_id),
                periods=tuple(daily_reports),
                audit=audit,
                threshold=rates.threshold(site_id),
                per_vehicle=_one(
                    rates.rates(period.start, period.end, None, site_id=site_id, category=cat, unit="vehicle")
                ),
                vehicle_threshold=rates.threshold(site_id, "vehicle"),
            )
        )
    categories = sorted({site.category for site in reports})
    return Report(
        period=period,
        bucket=bucket,
        confidence=confidence,
        min_n=min_n,
        before_period=before_period,
        after_period=after_period,
        comparison_source=source,
        sites=tuple(reports),
        rankings=tuple(rank_sites(reports, cat, tr) for cat in categories),
        notes=tuple(all_notes),
        generated_at=datetime.now(UTC),
        zone=rates.settings.zone,
        language=tr.language,
    )


EXAMPLES_PER_OUTCOME = 3


def _audit_report(
    store: Store, config: VisionConfig, rates: RateService, site_id: str, category: str, period: Period,
    total: RatePoint | None,
) -> AuditReport:  # fmt: skip
    sink = open_sink(config.evidence, config.store.url, store)
    examples = {}
    for outcome in (Outcome.COMPLIANT.value, Outcome.NON_COMPLIANT.value):
        rows = store.evidence_examples(site_id, category, outcome, period.start, period.end, EXAMPLES_PER_OUTCOME)
        crops = (sink.read(row.crop_path) for row in rows)
        examples[outcome] = tuple(crop for crop in crops if crop is not None)
    return AuditReport(
        counts=store.audit_counts(site_id, category),
        source=total.adjusted_source if total is not None else None,
        min_marks=rates.settings.min_audit_marks,
        examples=examples,
    )


def _compare(before: RatePoint | None, after: RatePoint | None, confidence: float) -> ProportionComparison:
    return two_proportion_test(
        before.compliant if before else 0,
        before.n if before else 0,
        after.compliant if after else 0,
        after.n if after else 0,
        confidence,
    )


def format_duration(seconds: float) -> str:
    """Camera-seconds as ``h:mm`` (``3:05`` for 11100 s; hours may exceed 24)."""
    minutes = math.floor(seconds / 60 + 0.5)
    return f"{minutes // 60}:{minutes % 60:02d}"
