"""Zones as spans of constant offset, daily periods, and local bucket windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vision.clock import DailyPeriod, bucket_windows, offset_spans, zone_named
from vision.errors import VisionError

NEW_YORK = ZoneInfo("America/New_York")


def test_offset_spans_find_each_transition_to_the_second():
    start, end = datetime(2026, 1, 1, tzinfo=UTC).timestamp(), datetime(2027, 1, 1, tzinfo=UTC).timestamp()
    spans = offset_spans(NEW_YORK, start, end)
    assert [(datetime.fromtimestamp(s.start, UTC).isoformat(), s.utc_offset_s) for s in spans] == [
        ("2026-01-01T00:00:00+00:00", -5 * 3600),
        ("2026-03-08T07:00:00+00:00", -4 * 3600),  # 02:00 EST
        ("2026-11-01T06:00:00+00:00", -5 * 3600),  # 02:00 EDT
    ]
    assert spans[-1].end == end
    (shanghai,) = offset_spans(ZoneInfo("Asia/Shanghai"), start, end)
    assert shanghai.utc_offset_s == 8 * 3600


def test_periods_parse_and_run_past_midnight():
    assert DailyPeriod.parse("morning_peak", "07:00-09:00") == DailyPeriod("morning_peak", 7 * 3600, 2 * 3600)
    late = DailyPeriod.parse("late", "22:30-01:00")
    assert (late.start_s, late.length_s, late.text) == (22 * 3600 + 1800, 2 * 3600 + 1800, "22:30-01:00")
    assert DailyPeriod.parse("all", "00:00-24:00").length_s == 86400
    for bad in ("7-9", "25:00-26:00", "07:60-08:00", "07:00-24:30"):
        with pytest.raises(ValueError):
            DailyPeriod.parse("bad", bad)


def test_period_windows_follow_the_local_clock_across_a_dst_change():
    peak = DailyPeriod.parse("morning_peak", "07:00-09:00")
    start, end = datetime(2026, 10, 31, tzinfo=NEW_YORK), datetime(2026, 11, 3, tzinfo=NEW_YORK)
    windows = peak.windows(start, end, NEW_YORK)
    assert [datetime.fromtimestamp(a, NEW_YORK).strftime("%m-%d %H:%M%z") for a, _ in windows] == [
        "10-31 07:00-0400",
        "11-01 07:00-0500",
        "11-02 07:00-0500",
    ]
    assert all(b - a == 7200 for a, b in windows)
    assert peak.window(date(2026, 11, 1), NEW_YORK)[0].utcoffset() == timedelta(hours=-5)


def test_bucket_windows_have_23_and_25_hour_days():
    days = bucket_windows(datetime(2026, 3, 7, 12, tzinfo=UTC), datetime(2026, 3, 9, 12, tzinfo=UTC), 86400, NEW_YORK)
    # (datetimes of one zone subtract as wall times: compare epoch seconds)
    assert [(b.timestamp() - a.timestamp()) / 3600 for a, b in days] == [24, 23, 24]
    days = bucket_windows(datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 2, 4, tzinfo=UTC), 86400, NEW_YORK)
    assert [(b.timestamp() - a.timestamp()) / 3600 for a, b in days] == [25]
    hours = bucket_windows(datetime(2026, 11, 1, 4, tzinfo=UTC), datetime(2026, 11, 1, 8, tzinfo=UTC), 3600, NEW_YORK)
    assert [a.isoformat() for a, _ in hours] == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]


def test_unknown_zones_are_named():
    with pytest.raises(VisionError, match="unknown time zone 'Asia/Shangai'"):
        zone_named("Asia/Shangai")
