"""A :class:`~vision.reports.build.Report` as one self-contained HTML file, or as CSV.

The HTML loads nothing: styles are inline and charts are PNG images embedded as ``data:`` URIs,
drawn by matplotlib's Agg canvas (no display, no pyplot state). Times are shown in each site's
local time (its zone, or the config's), as the rates are bucketed; CSV times are ISO 8601 with
the offset.
"""

from __future__ import annotations

import base64
import csv
import functools
import glob
import io
import math
from datetime import datetime, timedelta
from html import escape as attribute

from tqdm import tqdm

from vision import __version__
from vision.categories import N_
from vision.clock import bucket_windows
from vision.compliance.rates import BUCKET_SECONDS, RatePoint, confidently_below
from vision.compliance.rows import RATE_FIELDS, csv_row, rate_fields
from vision.compliance.stats import RateEstimate
from vision.i18n import Translator
from vision.reports.build import (
    BUCKET_NAMES,
    Period,
    Ranking,
    Report,
    SiteReport,
    category_title,
    format_duration,
    format_p,
)

CSV_COLUMNS = ("site_id", "site_name", "category", "unit", "bucket", "period", "confidence", *RATE_FIELDS)

COMPLIANT_COLOUR = "#2b6cb0"
LOW_SAMPLE_COLOUR = "#dd6b20"
UNDETERMINED_COLOUR = "#cbd5e0"


# --- numbers as text ------------------------------------------------------------------------------
def escape(text: str) -> str:
    """Text for an element's content (quotes stay readable); attribute values use :func:`attribute`."""
    return attribute(text, quote=False)


def _window(point: RatePoint, period: Period) -> tuple[datetime, datetime]:
    """The part of a bucket inside the period (a day bucket may start before ``--from``)."""
    return max(point.start, period.start), min(point.end, period.end)


def _interval(estimate: RateEstimate | None, tr: Translator | None = None) -> str:
    if estimate is None or estimate.low is None or estimate.high is None:
        return "–"
    tr = tr or Translator("en")
    return f"{tr.number(estimate.low * 100, 1)}–{tr.percent(estimate.high)}"


# --- CSV ----------------------------------------------------------------------------------------
def render_csv(report: Report) -> str:
    """One row per site, category and bucket with observations, then per daily period and local day.

    Times are ISO 8601 with the site's offset; shares in [0, 1]; ``period`` is empty for whole-day
    buckets and names the daily period (``morning_peak``) for its rows.

    Counts are observations (``unit`` person): ``undetermined`` and ``non_rider`` are beside the rate
    (not in ``n``); ``passengers`` (decided heads that shared a two-wheeler) are part of ``n``. Last, a
    row per site over the whole period per two-wheeler (``unit`` vehicle, ``bucket`` range: trips, the
    helmet rate per vehicle and ``passenger_rate``).
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    rows = [(site, report.bucket, "", point) for site in report.sites for point in site.trend]
    rows += [
        (site, "day", daily.name, point) for site in report.sites for daily in site.periods for point in daily.per_day
    ]
    rows += [(site, "range", "", site.per_vehicle) for site in report.sites if site.per_vehicle is not None]
    for site, bucket, period_name, point in rows:
        start, end = _window(point, report.period)
        whose: dict[str, object] = {"site_id": site.site_id, "site_name": site.site_name, "category": site.category}
        whose |= {"unit": point.unit, "bucket": bucket, "period": period_name, "confidence": report.confidence}
        below = confidently_below(point, site.vehicle_threshold if point.unit == "vehicle" else site.threshold)
        writer.writerow(csv_row(whose | rate_fields(point, below, start, end), CSV_COLUMNS))
    return buffer.getvalue()


# --- charts -------------------------------------------------------------------------------------
# DejaVu Sans has no CJK glyphs: matplotlib falls back glyph by glyph along this list (Debian's
# fonts-wqy-microhei, installed by `make test`; Noto CJK where that is what a machine has).
CHART_FONTS = ["DejaVu Sans", "WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans CJK JP"]


CJK_FONT_FILES = ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", "/usr/share/fonts/opentype/noto/NotoSansCJK-*.ttc")


@functools.cache
def _chart_fonts() -> tuple[str, ...]:
    """The :data:`CHART_FONTS` this machine has, registering a CJK font installed after matplotlib cached its list."""
    from matplotlib import font_manager

    known = {font.name for font in font_manager.fontManager.ttflist}
    if not known & set(CHART_FONTS[1:]):
        for pattern in CJK_FONT_FILES:
            for path in sorted(glob.glob(pattern)):  # noqa: PTH207 - absolute patterns
                font_manager.fontManager.addfont(path)
        known = {font.name for font in font_manager.fontManager.ttflist}
    return tuple(name for name in CHART_FONTS if name in known) or ("DejaVu Sans",)


def _chart_style():  # -> matplotlib rc_context
    import matplotlib

    # A list of families falls back glyph by glyph (a generic "sans-serif" would use its first font only).
    return matplotlib.rc_context({"font.family": list(_chart_fonts())})


def _png_data_uri(figure) -> str:  # figure: matplotlib.figure.Figure
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def trend_chart(site: SiteReport, report: Report) -> str:
    with _chart_style():
        return _trend_chart(site, report, Translator(report.language))


def _trend_chart(site: SiteReport, report: Report, tr: Translator) -> str:
    """Rate per bucket with its interval as a band (low-sample points hollow, orange) over the n per bucket.

    Buckets without observations are gaps, not zeros. Returns a ``data:image/png`` URI.
    """
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    step = timedelta(seconds=BUCKET_SECONDS[report.bucket])
    by_start = {point.start.timestamp(): point for point in site.trend}
    centres, rates, lows, highs, decided, undetermined, low_sample, adjusted = [], [], [], [], [], [], [], []
    for start, end in bucket_windows(report.period.start, report.period.end, BUCKET_SECONDS[report.bucket], site.zone):
        point = by_start.get(start.timestamp())
        window_start, window_end = max(start, report.period.start), min(end, report.period.end)
        middle = (window_start.timestamp() + window_end.timestamp()) / 2  # real seconds: a DST day is 23 or 25 h
        centres.append(datetime.fromtimestamp(middle, tz=site.zone))
        estimate = point.estimate if point else None
        rates.append(math.nan if estimate is None or estimate.rate is None else estimate.rate)
        lows.append(math.nan if estimate is None or estimate.low is None else estimate.low)
        highs.append(math.nan if estimate is None or estimate.high is None else estimate.high)
        decided.append(point.n if point else 0)
        undetermined.append(point.undetermined if point else 0)
        low_sample.append(bool(point and point.low_sample and point.n > 0))
        adjusted.append(math.nan if point is None or point.adjusted is None else (point.adjusted.rate or math.nan))

    figure = Figure(figsize=(9, 4.2), layout="constrained")
    rate_axes, n_axes = figure.subplots(2, 1, sharex=True, height_ratios=(3, 1.3))
    rate_axes.fill_between(
        centres,
        lows,
        highs,
        color=COMPLIANT_COLOUR,
        alpha=0.18,
        linewidth=0,
        label=tr("{level} interval").format(level=f"{report.confidence:.0%}"),
    )
    rate_axes.vlines(centres, lows, highs, color=COMPLIANT_COLOUR, alpha=0.35, linewidth=1)
    rate_axes.plot(centres, rates, color=COMPLIANT_COLOUR, linewidth=1.5, label=tr("rate"))
    solid = [(c, r) for c, r, low in zip(centres, rates, low_sample, strict=True) if not low and not math.isnan(r)]
    hollow = [(c, r) for c, r, low in zip(centres, rates, low_sample, strict=True) if low and not math.isnan(r)]
    if solid:
        rate_axes.plot(*zip(*solid, strict=True), "o", color=COMPLIANT_COLOUR, markersize=4)
    if hollow:
        rate_axes.plot(
            *zip(*hollow, strict=True),
            "o",
            markerfacecolor="white",
            markeredgecolor=LOW_SAMPLE_COLOUR,
            markersize=6,
            label=tr("low sample (n < {minimum})").format(minimum=report.min_n),
        )
    if any(not math.isnan(a) for a in adjusted):
        rate_axes.plot(
            centres,
            adjusted,
            "x--",
            color="#4a5568",
            linewidth=1,
            markersize=4,
            label=tr("adjusted for detector error"),
        )
    rate_axes.set_ylim(0, 1.02)
    rate_axes.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    rate_axes.set_ylabel(tr("compliance"))
    rate_axes.grid(True, alpha=0.3)
    rate_axes.legend(loc="best", fontsize=8, ncols=4, frameon=False)
    rate_axes.set_title(
        tr("{site} ({id}), {category}: rate per {bucket}").format(
            site=site.site_name, id=site.site_id, category=category_title(site.category, tr), bucket=_bucket(report, tr)
        ),
        fontsize=10,
    )

    width = (step * 0.8).total_seconds() / 86400  # matplotlib date units are days
    colours = [LOW_SAMPLE_COLOUR if low else COMPLIANT_COLOUR for low in low_sample]
    n_axes.bar(centres, decided, width=width, color=colours, alpha=0.8, label=tr("decided (n)"))
    n_axes.bar(centres, undetermined, width=width, bottom=decided, color=UNDETERMINED_COLOUR, label=tr("undetermined"))
    n_axes.axhline(
        report.min_n,
        color=LOW_SAMPLE_COLOUR,
        linestyle=":",
        linewidth=1,
        label=tr("minimum n ({minimum})").format(minimum=report.min_n),
    )
    tallest = max([d + u for d, u in zip(decided, undetermined, strict=True)] + [report.min_n])
    n_axes.set_ylim(0, tallest * 1.45)  # room for the legend and the labels
    if len(centres) <= 31:  # few buckets: write each decided n on its bar
        for centre, n, u in zip(centres, decided, undetermined, strict=True):
            if n or u:
                n_axes.annotate(
                    str(n), (centre, n + u), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=7
                )
    n_axes.set_ylabel(tr("observations"))
    n_axes.legend(loc="upper left", fontsize=7, ncols=3, frameon=False)
    n_axes.grid(True, axis="y", alpha=0.3)
    locator = mdates.AutoDateLocator(tz=site.zone)
    n_axes.xaxis.set_major_locator(locator)
    n_axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=site.zone))
    n_axes.set_xlim(report.period.start, report.period.end)
    n_axes.set_xlabel(tr("local time ({zone})").format(zone=site.zone))
    return _png_data_uri(figure)


def ranking_chart(ranking: Ranking, confidence: float, tr: Translator | None = None) -> str:
    """Each ranked site's rate as a dot with its interval as a bar, best at the top; a ``data:image/png`` URI."""
    with _chart_style():
        return _ranking_chart(ranking, confidence, tr or Translator("en"))


def _ranking_chart(ranking: Ranking, confidence: float, tr: Translator) -> str:
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    entries = ranking.entries
    figure = Figure(figsize=(9, 0.9 + 0.38 * len(entries)), layout="constrained")
    axes = figure.subplots()
    for position, entry in enumerate(entries):
        estimate = entry.site.total.estimate if entry.site.total else None
        if estimate is None or estimate.rate is None or estimate.low is None or estimate.high is None:
            continue
        colour = LOW_SAMPLE_COLOUR if entry.site.total and entry.site.total.low_sample else COMPLIANT_COLOUR
        y = len(entries) - 1 - position
        axes.plot([estimate.low, estimate.high], [y, y], color=colour, linewidth=3, alpha=0.5)
        axes.plot([estimate.rate], [y], "o", color=colour)
    labels = [f"{e.rank}. {e.site.site_name} (n={e.site.total.n if e.site.total else 0})" for e in entries]
    axes.set_yticks(range(len(entries)), labels[::-1])
    axes.set_xlim(0, 1)
    axes.set_ylim(-0.6, len(entries) - 0.4)
    axes.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    axes.grid(True, axis="x", alpha=0.3)
    axes.set_title(
        tr("{category}: rate with {level} interval (orange: low sample)").format(
            category=category_title(ranking.category, tr), level=f"{confidence:.0%}"
        ),
        fontsize=10,
    )
    return _png_data_uri(figure)


# --- HTML ---------------------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1100px;
       color: #1a202c; padding: 0 1em; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; }
h2 { border-bottom: 1px solid #e2e8f0; padding-bottom: 0.2em; margin-top: 2em; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.92em; }
th, td { border: 1px solid #e2e8f0; padding: 0.3em 0.6em; text-align: right; vertical-align: top; }
th { background: #f7fafc; }
td.text, th.text { text-align: left; }
.meta { color: #4a5568; }
.warning { background: #fffaf0; border-left: 4px solid #dd6b20; padding: 0.6em 1em; }
.empty { background: #fff5f5; border-left: 4px solid #c53030; padding: 0.8em 1em; font-size: 1.1em; }
.flag { color: #dd6b20; font-weight: 600; }
.crops { margin: 0.4em 0; }
.crops img.crop { height: 96px; margin: 0 0.3em; border: 1px solid #e2e8f0; vertical-align: middle; }
img { max-width: 100%; height: auto; }
"""


def _bucket(report: Report, tr: Translator) -> str:
    return tr(BUCKET_NAMES[report.bucket])


# The site table's columns: a header and the rate-row fields (vision/compliance/rows.py) it shows.
SITE_COLUMNS = (
    (N_("rate"), ("rate",)),
    (N_("{level} interval"), ("low", "high")),
    (N_("n (decided)"), ("n",)),
    (N_("compliant"), ("compliant",)),
    (N_("non-compliant"), ("non_compliant",)),
    (N_("undetermined"), ("undetermined",)),
    (N_("non-rider"), ("non_rider",)),
    (N_("passengers"), ("passengers",)),
    (N_("coverage (h:mm)"), ("coverage_s",)),
    (N_("low sample"), ("low_sample",)),
    (N_("adjusted rate"), ("adjusted_rate", "adjusted_low", "adjusted_high")),
)


def _share(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def html_cell(names: tuple[str, ...], fields: dict[str, object], tr: Translator) -> str:
    """The HTML text of one site-table cell: the same fields as the CSV and API rows, written for a reader."""
    first = fields[names[0]]
    if names[0] in ("low", "adjusted_rate"):
        low, high = _share(fields[names[-2]]), _share(fields[names[-1]])
        interval = "–" if low is None or high is None else f"{tr.number(low * 100, 1)}–{tr.percent(high)}"
        if names[0] == "low":
            return interval
        return "–" if first is None else f"{tr.percent(_share(first))}<br><small>{interval}</small>"
    if names[0] == "rate":
        return tr.percent(_share(first))
    if names[0] == "coverage_s":
        return format_duration(_share(first) or 0.0)
    if names[0] == "low_sample":
        return f'<span class="flag">{escape(tr("low sample"))}</span>' if first else ""
    return str(first)


def _site_table(report: Report, tr: Translator) -> str:
    headers = [tr("site"), tr("category")]
    headers += [tr(header).format(level=f"{report.confidence:.0%}") for header, _ in SITE_COLUMNS]
    rows = []
    for site in report.sites:
        point = site.total
        name = f"{escape(site.site_name)}<br><small>{escape(site.site_id)}</small>"
        category = escape(category_title(site.category, tr))
        if point is None:
            rows.append(
                f'<tr><td class="text">{name}</td><td class="text">{category}</td>'
                f'<td class="text" colspan="{len(headers) - 2}">'
                f"{escape(tr('no observations in this period'))}</td></tr>"
            )
            continue
        fields = rate_fields(point, confidently_below(point, site.threshold))
        cells = "".join(f"<td>{html_cell(names, fields, tr)}</td>" for _, names in SITE_COLUMNS)
        rows.append(f'<tr><td class="text">{name}</td><td class="text">{category}</td>{cells}</tr>')
    return f"<table><thead><tr>{_head(headers)}</tr></thead><tbody>" + "".join(rows) + "</tbody></table>"


def _head(headers: list[str]) -> str:
    """Header cells of a site table: the site and category columns are text, the rest numbers."""
    return "".join(
        f'<th class="text">{escape(h)}</th>' if index < 2 else f"<th>{escape(h)}</th>"
        for index, h in enumerate(headers)
    )


def _ranking_section(report: Report, tr: Translator) -> str:
    parts = []
    for ranking in report.rankings:
        parts.append(f"<h3>{escape(category_title(ranking.category, tr))}</h3>")
        if len(ranking.entries) > 1:
            overlap = escape(tr("intervals overlap"))
            rows = "".join(
                f'<tr><td>{entry.rank}</td><td class="text">{escape(entry.site.site_name)}</td>'
                f"<td>{tr.percent(entry.site.total.estimate.rate if entry.site.total else None)}</td>"
                f"<td>{_interval(entry.site.total.estimate if entry.site.total else None, tr)}</td>"
                f"<td>{entry.site.total.n if entry.site.total else 0}</td>"
                f'<td class="text">{overlap if entry.overlaps_next else ""}</td></tr>'
                for entry in ranking.entries
            )
            level = tr("{level} interval").format(level=f"{report.confidence:.0%}")
            parts.append(
                f'<table><thead><tr><th>{escape(tr("rank"))}</th><th class="text">{escape(tr("site"))}</th>'
                f"<th>{escape(tr('rate'))}</th><th>{escape(level)}</th><th>n</th>"
                f'<th class="text">{escape(tr("vs the next"))}</th></tr></thead><tbody>{rows}</tbody></table>'
            )
            chart = ranking_chart(ranking, report.confidence, tr)
            alt = tr("ranking of {category} sites").format(category=category_title(ranking.category, tr))
            parts.append(f'<img alt="{attribute(alt)}" src="{chart}">')
        parts.append(f"<p><strong>{escape(ranking.statement)}</strong></p>")
    return "".join(parts) or f"<p>{escape(tr('No sites to rank.'))}</p>"


def _comparison_section(report: Report, tr: Translator) -> str:
    how = (
        tr("the first half of the period against the second half")
        if report.comparison_source == "halves"
        else tr("the two periods given (the earlier one is “before”)")
    )
    level = tr("{level} CI (points)").format(level=f"{report.confidence:.0%}")
    rows = []
    for site in report.sites:
        c = site.comparison
        if c.difference is None or c.low is None or c.high is None or c.p_value is None:
            numbers = "<td>–</td><td>–</td><td>–</td>"
        else:
            numbers = (
                f"<td>{c.difference * 100:+.1f}</td><td>{c.low * 100:+.1f} – {c.high * 100:+.1f}</td>"
                f"<td>{escape(format_p(c.p_value).removeprefix('p = ').removeprefix('p '))}</td>"
            )
        caution = f'<br><span class="flag">{escape(site.caution)}</span>' if site.caution else ""
        rows.append(
            f'<tr><td class="text">{escape(site.site_name)}</td>'
            f'<td class="text">{escape(category_title(site.category, tr))}</td>'
            f"<td>{tr.percent(c.before.rate)}<br><small>n={c.before.n}</small></td>"
            f"<td>{tr.percent(c.after.rate)}<br><small>n={c.after.n}</small></td>{numbers}"
            f'<td class="text">{escape(site.sentence)}{caution}</td></tr>'
        )
    intro = tr("Comparing {how}: before {before}, after {after}.").format(
        how=how,
        before=report.before_period.label_in(report.zone),
        after=report.after_period.label_in(report.zone),
    )
    return (
        f"<p>{escape(intro)}</p>"
        f'<table><thead><tr><th class="text">{escape(tr("site"))}</th><th class="text">{escape(tr("category"))}</th>'
        f"<th>{escape(tr('before'))}</th><th>{escape(tr('after'))}</th>"
        f"<th>{escape(tr('difference (points)'))}</th><th>{escape(level)}</th><th>p</th>"
        f'<th class="text">{escape(tr("in words"))}</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
    )


def _vehicle_section(report: Report, tr: Translator) -> str:
    """Per two-wheeler (sites whose cameras count riders' trips): helmet per vehicle and passenger carrying."""
    sites = [site for site in report.sites if site.per_vehicle is not None]
    if not sites:
        return ""
    rows = []
    for site in sites:
        point = site.per_vehicle
        assert point is not None
        carrying = point.passenger_rate
        trips = point.compliant + point.non_compliant + point.undetermined
        rows.append(
            f'<tr><td class="text">{escape(site.site_name)}<br><small>{escape(site.site_id)}</small></td>'
            f'<td class="text">{escape(category_title(site.category, tr))}</td><td>{trips}</td>'
            f"{_rate_cell(point, tr)}"
            f"<td>{tr.percent(carrying.rate if carrying else None)}<br><small>{_interval(carrying, tr)},"
            f" {point.passengers}/{trips}</small></td></tr>"
        )
    headers = [tr("site"), tr("category"), tr("trips"), tr("every rider compliant"), tr("carrying passengers")]
    intro = tr(
        "Each two-wheeler that carried riders counts once (a trip): compliant when every rider was judged compliant,"
        " non-compliant when any rider was (one ticket); trips with a rider nobody could judge are beside the rate."
    )
    return (
        f"<h2>{escape(tr('Per two-wheeler'))}</h2><p>{escape(intro)}</p>"
        f"<table><thead><tr>{_head(headers)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _rate_cell(point: RatePoint | None, tr: Translator) -> str:
    if point is None:
        return "<td>–</td>"
    flag = ' class="flag"' if point.low_sample else ""
    interval = _interval(point.estimate, tr)
    return f"<td{flag}>{tr.percent(point.estimate.rate)}<br><small>{interval}, n={point.n}</small></td>"


def _periods_section(report: Report, tr: Translator) -> str:
    """Per site: each daily period over the whole period, before/after, and per local day."""
    sites = [site for site in report.sites if site.periods]
    if not sites:
        return ""
    parts = [
        f"<h2>{escape(tr('Daily periods'))}</h2><p>"
        + escape(
            tr("Rates kept to each configured part of the day, in the site's local time; before and after as above.")
        )
        + "</p>"
    ]
    for site in sites:
        parts.append(
            f"<h3>{escape(site.site_name)} ({escape(site.site_id)}), {escape(category_title(site.category, tr))}</h3>"
        )
        rows = "".join(
            f'<tr><td class="text">{escape(daily.name)}<br><small>{escape(daily.local_time)}</small></td>'
            f"{_rate_cell(daily.total, tr)}{_rate_cell(daily.before, tr)}{_rate_cell(daily.after, tr)}"
            f'<td class="text">{escape(daily.sentence)}</td></tr>'
            for daily in site.periods
        )
        parts.append(
            f'<table><thead><tr><th class="text">{escape(tr("period"))}</th><th>{escape(tr("whole period"))}</th>'
            f"<th>{escape(tr('before'))}</th><th>{escape(tr('after'))}</th>"
            f'<th class="text">{escape(tr("in words"))}</th></tr></thead><tbody>{rows}</tbody></table>'
        )
        days = sorted({p.start.date() for daily in site.periods for p in daily.per_day})
        if days:
            by_day = {(daily.name, p.start.date()): p for daily in site.periods for p in daily.per_day}
            header = "".join(f"<th>{escape(daily.name)}</th>" for daily in site.periods)
            body = "".join(
                f'<tr><td class="text">{day.isoformat()}</td>'
                + "".join(_rate_cell(by_day.get((daily.name, day)), tr) for daily in site.periods)
                + "</tr>"
                for day in days
            )
            parts.append(
                f'<table><thead><tr><th class="text">{escape(tr("local day"))}</th>{header}</tr></thead>'
                f"<tbody>{body}</tbody></table>"
            )
    return "".join(parts)


def _audit_section(report: Report, tr: Translator) -> str:
    """Per site: the audit's marks, the error they measure, which error the adjusted rate uses, example crops."""
    parts = []
    for site in report.sites:
        audit = site.audit
        if audit is None:
            continue
        v = audit.counts.validation
        sensitivity = tr.percent(v.judged_non_compliant / v.truly_non_compliant) if v.truly_non_compliant else "–"
        specificity = tr.percent(v.judged_compliant / v.truly_compliant) if v.truly_compliant else "–"
        source = {
            "audit": tr("the adjusted rate uses this site's audit (Lang & Reiczigel interval)"),
            "model_card": tr(
                "the adjusted rate uses the model card's error: this site has fewer than {minimum} marks"
            ).format(minimum=audit.min_marks),
        }.get(audit.source or "", tr("no measured error: no adjusted rate"))
        summary = tr(
            "{marked} observations audited ({unclear} unclear); bare heads or faces found as such: {sensitivity}"
            " of {truly_nc}; compliant ones found as such: {specificity} of {truly_c}; {source}."
        ).format(
            marked=audit.counts.marked,
            unclear=audit.counts.unclear,
            sensitivity=sensitivity,
            truly_nc=v.truly_non_compliant,
            specificity=specificity,
            truly_c=v.truly_compliant,
            source=source,
        )
        crops = []
        for outcome, jpegs in audit.examples.items():
            images = "".join(
                f'<img class="crop" alt="{escape(outcome)}" src="data:image/jpeg;base64,'
                f'{base64.b64encode(jpeg).decode()}">'
                for jpeg in jpegs
            )
            label = tr("compliant") if outcome == "compliant" else tr("non-compliant")
            crops.append(f'<div class="crops"><strong>{escape(label)}</strong> {images or "–"}</div>')
        parts.append(
            f"<h3>{escape(site.site_name)} · {escape(category_title(site.category, tr))}</h3>"
            f"<p>{escape(summary)}</p>{''.join(crops)}"
        )
    if not parts:
        return ""
    return f"<h2>{escape(tr('Audit and evidence'))}</h2>" + "".join(parts)


def _trend_section(report: Report, progress: bool, tr: Translator) -> str:
    parts = []
    for site in tqdm(report.sites, desc="charts", unit="site", disable=not progress):
        title = f"{site.site_name} ({site.site_id}), {category_title(site.category, tr)}"
        parts.append(f"<h3>{escape(title)}</h3>")
        if not site.trend:
            parts.append(f"<p>{escape(tr('No observations in this period.'))}</p>")
            continue
        alt = tr("{site} rate per {bucket}").format(site=site.site_name, bucket=_bucket(report, tr))
        parts.append(f'<img alt="{attribute(alt)}" src="{trend_chart(site, report)}">')
    return "".join(parts)


def render_html(report: Report, title: str | None = None, progress: bool = False) -> str:
    """The whole report as one HTML document that loads nothing (charts embedded as PNG data URIs).

    In the report's language (``report.language``): every sentence, number and date.
    """
    tr = Translator(report.language)
    title = title or tr("Compliance report")
    period = report.period
    label = period.label_in(report.zone)
    notes = "".join(f'<p class="warning">{escape(note)}</p>' for note in report.notes)
    meta = tr(
        "Period {label} (from {start} to {end}, end excluded); buckets of one {bucket} in each site's local time;"
        " {level} intervals; rates on fewer than {minimum} decided observations are flagged low sample."
        " Generated {generated} ({zone}) by vision {version}."
    ).format(
        label=label,
        start=period.start.isoformat(),
        end=period.end.isoformat(),
        bucket=_bucket(report, tr),
        level=f"{report.confidence:.0%}",
        minimum=report.min_n,
        generated=tr.datetime_text(report.generated_at, report.zone),
        zone=report.zone,
        version=__version__,
    )
    head = f'<h1>{escape(title)}</h1><p class="meta">{escape(meta)}</p>'
    if not report.has_observations:
        body = (
            f'<p class="empty">{escape(tr("No observations in this period."))}</p>'
            + notes
            + f"<h2>{escape(tr('Sites'))}</h2>"
            + _site_table(report, tr)
        )
    else:
        body = (
            notes
            + f"<h2>{escape(tr('Per site'))}</h2>"
            + _site_table(report, tr)
            + _vehicle_section(report, tr)
            + f"<h2>{escape(tr('Ranking'))}</h2>"
            + _ranking_section(report, tr)
            + f"<h2>{escape(tr('Before and after'))}</h2>"
            + _comparison_section(report, tr)
            + _periods_section(report, tr)
            + _audit_section(report, tr)
            + f"<h2>{escape(tr('Trend per {bucket}').format(bucket=_bucket(report, tr)))}</h2>"
            + _trend_section(report, progress, tr)
        )
    items = [
        tr(
            "rate = compliant / (compliant + non-compliant); undetermined observations (too small or too short to"
            " judge) are counted beside it, never inside. n is the decided count."
        ),
        tr(
            "non-rider: heads that never rode a moving two-wheeler (where a camera counts riders only), counted"
            " beside the rate, never inside. passengers: decided heads (part of n) that shared a two-wheeler with"
            " another head."
        ),
        tr(
            "Intervals are {level} Wilson score intervals. The adjusted rate corrects for the verdicts' measured"
            " sensitivity and specificity: by the site's own audit once it has enough marks (Lang & Reiczigel,"
            " whose interval includes the audit's own uncertainty), else by the model card (Rogan–Gladen, whose"
            " interval does not include the uncertainty of those measurements)."
        ).format(level=f"{report.confidence:.0%}"),
        tr("coverage is camera time with frames (two cameras for one hour give 2:00)."),
        tr(
            "The ranking's order between two sites is not significant when their intervals overlap"
            " (a conservative check)."
        ),
        tr(
            "Before/after: the difference's interval is Newcombe's hybrid score interval; p is the two-sided"
            " two-proportion z-test; a change is called unlikely by chance when p < {alpha}. Testing many sites at"
            " once makes a few such calls by chance alone."
        ).format(alpha=f"{1 - report.confidence:.2f}"),
        tr("Times are each site's local time ({zone} unless a site has its own zone).").format(zone=report.zone),
    ]
    method = (
        f"<h2>{escape(tr('How to read this'))}</h2><ul>" + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>"
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{report.language}"><head><meta charset="utf-8">'
        f"<title>{escape(title)}: {escape(label)}</title><style>{STYLE}</style></head><body>"
        f"{head}{body}{method}</body></html>\n"
    )
