"""One rate point as a row: the fields, their order and their text, for every output that lists rates.

The API's JSON points, the API's CSV and the report's CSV are all :func:`rate_fields` of a
:class:`~vision.compliance.rates.RatePoint` (plus the columns that say whose rate it is), written
as text by :func:`csv_cell`: one spelling of every value (ISO 8601 times with the site's offset,
shares in [0, 1] to six places, ``true``/``false``, empty for none), so two exports of the same
rate never disagree.
"""

from __future__ import annotations

from datetime import datetime

from vision.compliance.rates import RatePoint

RATE_FIELDS = (
    "start",
    "end",
    "compliant",
    "non_compliant",
    "undetermined",
    "non_rider",
    "passengers",
    "n",
    "rate",
    "low",
    "high",
    "adjusted_rate",
    "adjusted_low",
    "adjusted_high",
    "adjusted_source",
    "coverage_s",
    "low_sample",
    "confidently_below",
    "passenger_rate",
    "passenger_low",
    "passenger_high",
)
SHARES = frozenset(
    {"rate", "low", "high", "adjusted_rate", "adjusted_low", "adjusted_high", "passenger_rate", "passenger_low",
     "passenger_high"}
)  # fmt: skip


def rate_fields(
    point: RatePoint, confidently_below: bool, start: datetime | None = None, end: datetime | None = None
) -> dict[str, object]:
    """``point`` as :data:`RATE_FIELDS` (``start``/``end`` override the bucket's, e.g. cut to a report's period)."""
    adjusted, carrying = point.adjusted, point.passenger_rate
    return {
        "start": start or point.start,
        "end": end or point.end,
        "compliant": point.compliant,
        "non_compliant": point.non_compliant,
        "undetermined": point.undetermined,
        "non_rider": point.non_rider,
        "passengers": point.passengers,
        "n": point.n,
        "rate": point.estimate.rate,
        "low": point.estimate.low,
        "high": point.estimate.high,
        "adjusted_rate": adjusted.rate if adjusted else None,
        "adjusted_low": adjusted.low if adjusted else None,
        "adjusted_high": adjusted.high if adjusted else None,
        "adjusted_source": point.adjusted_source,
        "coverage_s": point.coverage_s,
        "low_sample": point.low_sample,
        "confidently_below": confidently_below,
        "passenger_rate": carrying.rate if carrying else None,
        "passenger_low": carrying.low if carrying else None,
        "passenger_high": carrying.high if carrying else None,
    }


def csv_cell(name: str, value: object) -> str:
    """The one text of a value in a CSV of rates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if name in SHARES and isinstance(value, int | float):
        return f"{value:.6f}"
    if name == "coverage_s" and isinstance(value, int | float):
        return f"{float(value):.1f}"
    return str(value)


def csv_row(fields: dict[str, object], columns: tuple[str, ...]) -> list[str]:
    return [csv_cell(column, fields[column]) for column in columns]
