"""Local time for rates: a site's time zone as spans of constant UTC offset, and named daily periods.

The store keeps UTC epoch seconds. A local bucket (the site's day, hour, or its morning peak) is
``floor((ended_at + utc_offset - period_start) / bucket_seconds)``, computed in SQL with the offset
that was in force at ``ended_at``. :func:`offset_spans` gives those offsets over a range: one span
for a zone without daylight saving (``Asia/Shanghai``), a few more for one with it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from vision.errors import VisionError

_STEP = timedelta(days=7)  # no zone changes its offset twice within a week (DST rules are months apart)
_PERIOD = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")


Clock = Callable[[], datetime]  # "now", zone-aware: injected where a window ends now (API, alerts, metrics)


def wall_clock() -> datetime:
    """The real time, UTC."""
    return datetime.now(UTC)


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Asia/Shanghai``, ``UTC``); VisionError naming it when unknown."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise VisionError(f"unknown time zone {name!r}: give an IANA name such as Asia/Shanghai or UTC") from error


@dataclass(frozen=True)
class OffsetSpan:
    """``start <= t < end`` (UTC epoch seconds) during which the zone is ``utc_offset_s`` ahead of UTC."""

    start: float
    end: float
    utc_offset_s: int


def _offset(zone: tzinfo, epoch_s: float) -> int:
    offset = datetime.fromtimestamp(epoch_s, tz=UTC).astimezone(zone).utcoffset()
    assert offset is not None
    return int(offset.total_seconds())


def offset_spans(zone: tzinfo, start: float, end: float) -> list[OffsetSpan]:
    """The spans of constant UTC offset that cover ``[start, end)``, in order; transitions exact to the second."""
    spans = []
    span_start, current = start, _offset(zone, start)
    probe = start
    while probe < end:
        check = min(probe + _STEP.total_seconds(), end - 0.001)  # the last probe is the range's last moment
        if _offset(zone, check) == current:
            probe = check if check > probe else end
            continue
        low, high = math.floor(probe), math.ceil(check)  # offset(low) is current, offset(high) is not
        while high - low > 1:
            middle = (low + high) // 2
            low, high = (middle, high) if _offset(zone, middle) == current else (low, middle)
        spans.append(OffsetSpan(span_start, float(high), current))
        span_start, current, probe = float(high), _offset(zone, high), float(high)
    spans.append(OffsetSpan(span_start, end, current))
    return spans


@dataclass(frozen=True)
class DailyPeriod:
    """A named part of every local day, e.g. ``morning_peak`` 07:00-09:00.

    ``start_s`` is seconds after local midnight, ``length_s`` its length in wall-clock seconds; a
    period that ends at or before it starts runs past midnight (``22:00-02:00``) and belongs to
    the day it starts on.
    """

    name: str
    start_s: int
    length_s: int

    @classmethod
    def parse(cls, name: str, text: str) -> DailyPeriod:
        """``"07:00-09:00"`` (24-hour local wall time); ValueError saying what is wrong."""
        match = _PERIOD.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r}: expected HH:MM-HH:MM in 24-hour local time, e.g. 07:00-09:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
            raise ValueError(f"{text!r}: not a time of day")
        start, stop = h1 * 3600 + m1 * 60, h2 * 3600 + m2 * 60
        length = stop - start if stop > start else stop + 86400 - start
        return cls(name, start, length)

    @property
    def text(self) -> str:
        """``07:00-09:00``."""
        stop = (self.start_s + self.length_s) % 86400
        return f"{self.start_s // 3600:02d}:{self.start_s % 3600 // 60:02d}-{stop // 3600:02d}:{stop % 3600 // 60:02d}"

    def window(self, day: date, zone: tzinfo) -> tuple[datetime, datetime]:
        """This period on local ``day``, as zone-aware ``(start, end)``."""
        midnight = datetime.combine(day, time())
        start = midnight + timedelta(seconds=self.start_s)
        return wall_time(start, zone), wall_time(start + timedelta(seconds=self.length_s), zone)

    def windows(self, start: datetime, end: datetime, zone: tzinfo) -> list[tuple[float, float]]:
        """Epoch-second windows of this period that overlap ``[start, end)``, clipped to it, in order."""
        first = start.astimezone(zone).date() - timedelta(days=1)
        last = end.astimezone(zone).date()
        lo, hi = start.timestamp(), end.timestamp()
        windows = []
        day = first
        while day <= last:
            a, b = (moment.timestamp() for moment in self.window(day, zone))
            if b > lo and a < hi:
                windows.append((max(a, lo), min(b, hi)))
            day += timedelta(days=1)
        return windows


def wall_time(naive: datetime, zone: tzinfo) -> datetime:
    """The zone-aware moment a clock in ``zone`` shows as ``naive`` (the earlier one when it shows twice)."""
    return naive.replace(tzinfo=zone, fold=0)


EPOCH_WALL = datetime(1970, 1, 1)


def wall_from_seconds(seconds: float) -> datetime:
    """Wall-clock seconds since 1970-01-01 00:00 as a naive datetime (what ``ended_at + offset`` counts)."""
    return EPOCH_WALL + timedelta(seconds=seconds)


def bucket_windows(
    start: datetime, end: datetime, bucket_seconds: int, zone: tzinfo
) -> list[tuple[datetime, datetime]]:
    """Every local bucket that overlaps ``[start, end)``, as zone-aware ``(start, end)`` windows, in order.

    Day buckets run from local midnight to midnight (23 or 25 hours on a daylight-saving day);
    shorter ones are aligned to the local hour or minute, so they match what :meth:`Store.counts`
    and the rate service report.
    """
    windows: list[tuple[datetime, datetime]] = []
    if bucket_seconds == 86400:
        day = start.astimezone(zone).date()
        while True:
            midnight = datetime.combine(day, time())
            window = wall_time(midnight, zone), wall_time(midnight + timedelta(days=1), zone)
            if window[0] >= end:
                return windows
            windows.append(window)
            day += timedelta(days=1)
    moment = start.timestamp()
    while moment < end.timestamp():
        offset = _offset(zone, moment)
        begin = math.floor((moment + offset) / bucket_seconds) * bucket_seconds - offset
        windows.append(
            (datetime.fromtimestamp(begin, tz=zone), datetime.fromtimestamp(begin + bucket_seconds, tz=zone))
        )
        moment = begin + bucket_seconds
    return windows
