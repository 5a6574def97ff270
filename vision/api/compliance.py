"""Compliance series, current rates and CSV export."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from vision.api import schemas
from vision.api.context import UNPROCESSABLE, Context, known_site, zoned
from vision.categories import Category
from vision.compliance.rates import BUCKET_SECONDS, RatePoint, RateService
from vision.compliance.rows import RATE_FIELDS, csv_row, rate_fields
from vision.errors import VisionError

router = APIRouter(prefix="/api/v1/compliance", tags=["compliance"])
MAX_POINTS = 50_000  # per request: a year of hourly points for several sites

Bucket = Literal["minute", "hour", "day", "range"]
Unit = Literal["person", "vehicle"]


def to_schema(point: RatePoint, rates: RateService) -> schemas.RatePoint:
    """A point as the API shows it (:func:`~vision.compliance.rows.rate_fields`, judged by ``rates``)."""
    return schemas.RatePoint.model_validate(rate_fields(point, rates.confidently_below(point)))


def _series(ctx: Context, query: SeriesQuery) -> list[schemas.Series]:
    start, end, bucket, site, unit, period = query.start, query.end, query.bucket, query.site, query.unit, query.period
    zoned("from", start)
    zoned("to", end)
    if end <= start:
        raise HTTPException(UNPROCESSABLE, "to must be after from")
    if bucket != "range" and (end - start).total_seconds() / BUCKET_SECONDS[bucket] > MAX_POINTS:
        raise HTTPException(
            UNPROCESSABLE,
            f"{(end - start)} in {bucket} buckets is more than {MAX_POINTS} points; choose a larger bucket",
        )
    if site is not None:
        known_site(ctx, site)
    try:
        points = ctx.rates.rates(
            start,
            end,
            None if bucket == "range" else bucket,
            site_id=site,
            category=query.category,
            period=period,
            unit=unit,
        )
    except VisionError as error:
        raise HTTPException(UNPROCESSABLE, str(error)) from error
    grouped: dict[tuple[str, str], list[schemas.RatePoint]] = {}
    for point in points:
        grouped.setdefault((point.site_id, point.category), []).append(to_schema(point, ctx.rates))
    return [
        schemas.Series(
            site_id=site_id,
            category=cat,
            unit=unit,
            bucket=bucket,
            period=period,
            timezone=str(ctx.rates.zone(site_id)),
            confidence=ctx.config.compliance.confidence,
            points=values,
        )
        for (site_id, cat), values in grouped.items()
    ]


SiteQuery = Annotated[str | None, Query(description="Site id; all sites if omitted.", max_length=64)]
CategoryQuery = Annotated[
    Category | None, Query(description=f"One of {', '.join(c.value for c in Category)}; all if omitted.")
]
FromQuery = Annotated[datetime, Query(alias="from", description="Start, ISO 8601 with zone (inclusive).")]
ToQuery = Annotated[datetime, Query(alias="to", description="End, ISO 8601 with zone (exclusive).")]
BucketQuery = Annotated[
    Bucket, Query(description="Window of each point, in the site's local time; range: one point over from-to.")
]
UnitQuery = Annotated[
    Unit,
    Query(
        description="person: each head or face once; vehicle: each two-wheeler's trip once (helmet per vehicle:"
        " non-compliant when any rider was; passenger_rate: trips with two or more riders)."
    ),
]
PeriodQuery = Annotated[
    str | None,
    Query(
        description="A configured daily period (e.g. morning_peak): count only that part of each local day;"
        " bucket day or range.",
        max_length=32,
    ),
]


@dataclass(frozen=True)
class SeriesQuery:
    """What ``/series`` and ``/series.csv`` are asked: the same parameters, read once (:func:`series_query`)."""

    start: datetime
    end: datetime
    site: str | None
    category: Category | None
    bucket: Bucket
    period: str | None
    unit: Unit


def series_query(
    start: FromQuery,
    end: ToQuery,
    site: SiteQuery = None,
    category: CategoryQuery = None,
    bucket: BucketQuery = "hour",
    period: PeriodQuery = None,
    unit: UnitQuery = "person",
) -> SeriesQuery:
    return SeriesQuery(start, end, site, category, bucket, period, unit)


SeriesParameters = Annotated[SeriesQuery, Depends(series_query)]


@router.get("/series", response_model=schemas.SeriesResponse)
def series(ctx: Context, query: SeriesParameters) -> schemas.SeriesResponse:
    """Counts, rate, interval, coverage and low-sample flag per window; windows without observations are left out.

    ``undetermined`` and ``non_rider`` are counted beside the rate, never in ``n``; ``passengers`` is part of ``n``.
    ``unit=vehicle`` counts two-wheelers' trips instead (helmet per vehicle, and ``passenger_rate``).
    """
    return schemas.SeriesResponse(start=query.start, end=query.end, series=_series(ctx, query))


CSV_COLUMNS = ("site_id", "category", "unit", "period", *RATE_FIELDS)


@router.get("/series.csv", response_class=Response, responses={200: {"content": {"text/csv": {}}}})
def series_csv(ctx: Context, query: SeriesParameters) -> Response:
    """The same series as CSV, one row per site, category and window; times ISO 8601 with the site's offset."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for one in _series(ctx, query):
        for point in one.points:
            row = {"site_id": one.site_id, "category": one.category, "unit": one.unit, "period": one.period}
            writer.writerow(csv_row(row | point.model_dump(), CSV_COLUMNS))
    per = "" if query.unit == "person" else f"{query.unit}-"
    span = f"{query.start:%Y%m%dT%H%M}-{query.end:%Y%m%dT%H%M}"
    filename = f"compliance-{per}{query.period or query.bucket}-{span}.csv"
    return Response(
        buffer.getvalue(), media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


@router.get("/current", response_model=list[schemas.CurrentRate])
def current(
    ctx: Context,
    window_minutes: Annotated[int | None, Query(ge=1, le=7 * 24 * 60, description="Rolling window.")] = None,
    sort: Annotated[Literal["rate", "-rate", "site", "n"], Query(description="Order of the sites.")] = "rate",
    below: Annotated[float | None, Query(gt=0, lt=1, description="Only sites whose rate is under this.")] = None,
    confident: Annotated[
        bool, Query(description="With below: only where the interval's upper bound is under it.")
    ] = False,
    category: CategoryQuery = None,
) -> list[schemas.CurrentRate]:
    """Each site's rate over the rolling window (sites with no observation in it are left out)."""
    end = ctx.clock()
    start = end - timedelta(minutes=window_minutes or ctx.config.api.rolling_window_minutes)
    names = {site.id: site.name for site in ctx.config.sites}
    rows = []
    for point in ctx.rates.rates(start, end, category=category):
        threshold = ctx.rates.threshold(point.site_id)
        estimate = point.estimate
        confidently_below = ctx.rates.confidently_below(point)
        if below is not None:
            limit_value = estimate.high if confident else estimate.rate
            if limit_value is None or limit_value >= below or (confident and point.low_sample):
                continue
        rows.append(
            schemas.CurrentRate(
                site_id=point.site_id,
                site_name=names.get(point.site_id, point.site_id),
                category=point.category,
                window_start=start,
                window_end=end,
                threshold=threshold,
                confidently_below=confidently_below,
                point=to_schema(point, ctx.rates),
            )
        )
    keys = {
        "rate": lambda r: (r.point.rate is None, r.point.rate or 0.0),
        "-rate": lambda r: (r.point.rate is None, -(r.point.rate or 0.0)),
        "site": lambda r: r.site_id,
        "n": lambda r: -r.point.n,
    }
    return sorted(rows, key=keys[sort])


@router.get("/periods", response_model=list[schemas.DailyPeriod])
def periods(ctx: Context) -> list[schemas.DailyPeriod]:
    """The configured daily periods (``compliance.periods``), in each site's local time."""
    return [
        schemas.DailyPeriod(name=p.name, local_time=p.text, start_s=p.start_s, length_s=p.length_s)
        for p in ctx.rates.settings.periods.values()
    ]
