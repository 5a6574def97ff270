"""The rate service in local time, on SQLite and PostgreSQL alike: buckets, days, periods, zones with DST.

Every expected figure is counted by hand from the observations written here; the same assertions
run on both databases, so both give the same series.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from vision.compliance.rates import RateService, RateSettings
from vision.config import VisionConfig
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.store import open_store
from vision.tracking import Observation

SHANGHAI = ZoneInfo("Asia/Shanghai")
NEW_YORK = ZoneInfo("America/New_York")
CONFIG = VisionConfig.model_validate(
    {
        "timezone": "Asia/Shanghai",
        "sites": [
            {"id": "gate", "name": "Gate"},
            {"id": "harbour", "name": "Harbour", "timezone": "America/New_York"},
        ],
        "cameras": [
            {"id": "cam-g", "site": "gate", "source": "g.mp4", "category": "helmet", "model": "m.yaml"},
            {"id": "cam-h", "site": "harbour", "source": "h.mp4", "category": "helmet", "model": "m.yaml"},
        ],
        "compliance": {"min_n": 1, "periods": {"morning_peak": "07:00-09:00", "late": "23:00-01:00"}},
    }
)


def _observation(ended: datetime, outcome: Outcome, site: str, track: int) -> Observation:
    camera = {"gate": "cam-g", "harbour": "cam-h"}[site]
    return Observation(camera, site, "helmet", track, ended - timedelta(seconds=4), ended, outcome, 8, 0.8, 1.0, 30.0)


# Local wall times at the gate (UTC+8, no DST): the edges of hours, of the day, and of the periods.
GATE_LOCAL = [
    (datetime(2026, 11, 2, 7, 0, 0), Outcome.COMPLIANT),  # morning peak starts
    (datetime(2026, 11, 2, 8, 59, 59, 900000), Outcome.NON_COMPLIANT),  # still in it
    (datetime(2026, 11, 2, 9, 0, 0), Outcome.COMPLIANT),  # peak over (end excluded)
    (datetime(2026, 11, 2, 10, 0, 0), Outcome.COMPLIANT),
    (datetime(2026, 11, 2, 10, 29, 59, 900000), Outcome.COMPLIANT),
    (datetime(2026, 11, 2, 10, 30, 0), Outcome.NON_COMPLIANT),  # rounds up to 11:00 where CAST rounds
    (datetime(2026, 11, 2, 10, 59, 59, 500000), Outcome.COMPLIANT),
    (datetime(2026, 11, 2, 23, 59, 59), Outcome.NON_COMPLIANT),  # the local day's last second
    (datetime(2026, 11, 3, 0, 0, 0), Outcome.COMPLIANT),  # the next local day
]


@pytest.fixture
def service(store_url):
    store = open_store(store_url)
    store.sync_config(CONFIG)
    run = store.start_run("zones.yaml", "test")
    observations = [
        _observation(local.replace(tzinfo=SHANGHAI), outcome, "gate", index)
        for index, (local, outcome) in enumerate(GATE_LOCAL)
    ]
    # The harbour (America/New_York): 2026-11-01 has 25 hours, 01:00-02:00 happens twice.
    observations += [
        _observation(datetime(2026, 11, 1, 0, 30, tzinfo=NEW_YORK), Outcome.COMPLIANT, "harbour", 100),
        _observation(datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK), Outcome.COMPLIANT, "harbour", 101),  # EDT
        _observation(datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=NEW_YORK), Outcome.NON_COMPLIANT, "harbour", 102),
        _observation(datetime(2026, 11, 1, 23, 59, tzinfo=NEW_YORK), Outcome.NON_COMPLIANT, "harbour", 103),
        _observation(datetime(2026, 11, 2, 0, 1, tzinfo=NEW_YORK), Outcome.COMPLIANT, "harbour", 104),
    ]
    store.add_observations(run, observations)
    yield RateService.from_config(store, CONFIG, errors={})
    store.close()


def _counts(points):
    return [(p.start.isoformat(), p.compliant, p.non_compliant) for p in points]


def test_hour_buckets_floor_at_the_local_hour_on_both_databases(service):
    start, end = datetime(2026, 11, 2, tzinfo=SHANGHAI), datetime(2026, 11, 4, tzinfo=SHANGHAI)
    points = service.rates(start, end, "hour", site_id="gate")
    assert _counts(points) == [
        ("2026-11-02T07:00:00+08:00", 1, 0),
        ("2026-11-02T08:00:00+08:00", 0, 1),
        ("2026-11-02T09:00:00+08:00", 1, 0),
        ("2026-11-02T10:00:00+08:00", 3, 1),
        ("2026-11-02T23:00:00+08:00", 0, 1),
        ("2026-11-03T00:00:00+08:00", 1, 0),
    ]
    assert all(p.end - p.start == timedelta(hours=1) for p in points)


def test_day_buckets_are_the_sites_local_days(service):
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
    gate = service.rates(start, end, "day", site_id="gate")
    # Queried in UTC, answered in the site's zone; in UTC days the 07:00 peak would fall on 1 November.
    assert _counts(gate) == [("2026-11-02T00:00:00+08:00", 5, 3), ("2026-11-03T00:00:00+08:00", 1, 0)]
    assert gate[0].start == datetime(2026, 11, 2, tzinfo=SHANGHAI)


def test_a_daylight_saving_day_has_25_hours_and_two_one_oclocks(service):
    start, end = datetime(2026, 10, 31, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)
    (long_day, next_day) = service.rates(start, end, "day", site_id="harbour")
    assert (long_day.start.isoformat(), long_day.end.isoformat()) == (
        "2026-11-01T00:00:00-04:00",
        "2026-11-02T00:00:00-05:00",
    )
    assert (
        long_day.end.timestamp() - long_day.start.timestamp() == 25 * 3600
    )  # aware datetimes of one zone subtract wall times
    assert (long_day.compliant, long_day.non_compliant) == (2, 2)
    assert (next_day.compliant, next_day.non_compliant) == (1, 0)
    hours = service.rates(start, end, "hour", site_id="harbour")
    assert _counts(hours)[:3] == [
        ("2026-11-01T00:00:00-04:00", 1, 0),
        ("2026-11-01T01:00:00-04:00", 1, 0),
        ("2026-11-01T01:00:00-05:00", 0, 1),
    ]


def test_periods_keep_to_their_local_hours_per_day_and_over_the_range(service):
    start, end = datetime(2026, 11, 1, tzinfo=SHANGHAI), datetime(2026, 11, 5, tzinfo=SHANGHAI)
    (peak,) = service.rates(start, end, "day", site_id="gate", period="morning_peak")
    assert (peak.start.isoformat(), peak.end.isoformat()) == ("2026-11-02T07:00:00+08:00", "2026-11-02T09:00:00+08:00")
    assert (peak.compliant, peak.non_compliant, peak.period) == (1, 1, "morning_peak")
    # 23:00-01:00 runs past midnight and belongs to the day it starts on.
    (late,) = service.rates(start, end, "day", site_id="gate", period="late")
    assert (late.start.isoformat(), late.compliant, late.non_compliant) == ("2026-11-02T23:00:00+08:00", 1, 1)
    (whole,) = service.rates(start, end, None, site_id="gate", period="morning_peak")
    assert (whole.start, whole.end, whole.n) == (start, end, 2)


def test_every_site_is_answered_in_its_own_zone(service):
    start, end = datetime(2026, 10, 31, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
    points = service.rates(start, end, "day")
    assert {p.site_id: str(p.start.tzinfo) for p in points} == {"gate": "Asia/Shanghai", "harbour": "America/New_York"}
    assert sum(p.n for p in points) == len(GATE_LOCAL) + 5


def test_unknown_periods_and_period_hours_are_refused_by_name(service):
    start, end = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 4, tzinfo=UTC)
    with pytest.raises(VisionError, match=r"unknown period 'noon' \(known: late, morning_peak\)"):
        service.rates(start, end, "day", period="noon")
    with pytest.raises(VisionError, match="per day or over the whole range, not per hour"):
        service.rates(start, end, "hour", period="morning_peak")


def test_one_service_answers_for_thresholds_and_zones():
    settings = RateSettings.from_config(CONFIG, errors={})
    service = RateService(None, settings)  # type: ignore[arg-type] - no store needed for settings
    assert str(service.zone("gate")) == "Asia/Shanghai"
    assert str(service.zone("harbour")) == "America/New_York"
    assert service.threshold("gate") == CONFIG.alerts.default_threshold


def test_a_per_vehicle_point_is_judged_against_the_vehicle_target_when_one_is_set():
    from vision.compliance.rates import RatePoint
    from vision.compliance.stats import wilson_interval

    start = datetime(2026, 11, 2, tzinfo=UTC)
    trips = RatePoint("gate", "helmet", start, start + timedelta(hours=1), 30, 20, 0, 0, 10,
                      wilson_interval(30, 50), None, 3600.0, False, unit="vehicle")  # fmt: skip
    lenient = RateService(None, RateSettings(thresholds={"gate": 0.5}))  # type: ignore[arg-type]
    assert lenient.threshold("gate", "vehicle") == 0.5 and not lenient.confidently_below(trips)
    strict = RateService(None, RateSettings(thresholds={"gate": 0.5}, vehicle_threshold=0.8))  # type: ignore[arg-type]
    assert strict.threshold("gate", "vehicle") == 0.8 and strict.threshold("gate") == 0.5
    assert strict.confidently_below(trips), "30 of 50 trips (interval up to ~73 %) is under 80 %"
    assert not strict.confidently_below(replace(trips, unit="person")), "people keep the site's 50 %"
