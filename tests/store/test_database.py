"""The store on a real SQLite file (and PostgreSQL when VISION_TEST_POSTGRES_URL names one)."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from vision.compliance.rates import DetectorError, compute_rates
from vision.config import VisionConfig
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.store import SCHEMA_VERSION, open_store
from vision.tracking import Observation

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CONFIG = VisionConfig.model_validate(
    {
        "sites": [{"id": "gate", "name": "Gate"}, {"id": "market", "name": "Market", "lat": 1.0, "lon": 2.0}],
        "cameras": [
            {"id": "cam-a", "site": "gate", "source": "a.mp4", "category": "helmet", "model": "m.yaml"},
            {"id": "cam-b", "site": "gate", "source": "b.mp4", "category": "helmet", "model": "m.yaml"},
            {"id": "cam-m", "site": "market", "source": "m.mp4", "category": "mask", "model": "m.yaml"},
        ],
    }
)


def observation(minutes: float, outcome: Outcome, site="gate", camera="cam-a", category="helmet", track=1):
    ended = T0 + timedelta(minutes=minutes)
    return Observation(camera, site, category, track, ended - timedelta(seconds=5), ended, outcome, 10, 0.8, 1.0, 40.0)


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'db' / 'vision.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = open_store(url)
    if request.param == "postgresql":
        with store.engine.begin() as connection:
            for table in ("observations", "camera_uptime", "runs", "cameras", "sites"):
                connection.execute(sa.text(f"DELETE FROM {table}"))
    store.sync_config(CONFIG)
    yield store
    store.close()


def test_sqlite_file_runs_in_wal_mode_with_a_schema_version(store):
    if store.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert store.schema_version() == SCHEMA_VERSION


def test_counts_per_bucket_and_over_the_range(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(
        run,
        [
            observation(1, Outcome.COMPLIANT),
            observation(2, Outcome.COMPLIANT, track=2),
            observation(3, Outcome.NON_COMPLIANT, track=3),
            observation(61, Outcome.UNDETERMINED, track=4),
            observation(62, Outcome.COMPLIANT, site="market", camera="cam-m", category="mask", track=5),
        ],
    )
    hourly = compute_rates(store, T0, T0 + timedelta(hours=3), "hour", min_n=3)
    summary = [(p.site_id, p.start.hour, p.compliant, p.non_compliant, p.undetermined, p.low_sample) for p in hourly]
    assert summary == [("gate", 8, 2, 1, 0, False), ("gate", 9, 0, 0, 1, True), ("market", 9, 1, 0, 0, True)]
    assert hourly[0].estimate.rate == pytest.approx(2 / 3)
    assert hourly[1].estimate.rate is None  # nothing decided: no rate, not 0 %
    whole = compute_rates(store, T0, T0 + timedelta(hours=3), None, site_id="gate")
    assert [(p.compliant, p.non_compliant, p.undetermined, p.start, p.end) for p in whole] == [
        (2, 1, 1, T0, T0 + timedelta(hours=3))
    ]
    # The end of a range is exclusive.
    assert compute_rates(store, T0, T0 + timedelta(minutes=2), None)[0].compliant == 1


def test_coverage_adds_camera_seconds_inside_each_window(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(run, [observation(10, Outcome.COMPLIANT), observation(70, Outcome.COMPLIANT, track=2)])
    first = store.camera_up(run, "cam-a", T0 + timedelta(minutes=30))
    store.camera_heartbeat(first, T0 + timedelta(minutes=40))  # still up (or the process died): counts to here
    second = store.camera_up(run, "cam-b", T0)
    store.camera_down(second, T0 + timedelta(minutes=90), "stream ended")
    store.camera_up(run, "cam-m", T0)  # a mask camera: not the gate's helmet coverage
    points = compute_rates(store, T0, T0 + timedelta(hours=2), "hour")
    assert [p.coverage_s for p in points if p.site_id == "gate"] == [600 + 3600, 1800]


def test_adjusted_rate_uses_the_detector_error(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(run, [observation(i, Outcome.COMPLIANT, track=i) for i in range(8)])
    store.add_observations(run, [observation(i, Outcome.NON_COMPLIANT, track=100 + i) for i in range(2)])
    (point,) = compute_rates(
        store, T0, T0 + timedelta(hours=1), None, detector_errors={"helmet": DetectorError(0.9, 0.95)}
    )
    assert point.adjusted is not None and point.adjusted.rate == pytest.approx(1 - 0.15 / 0.85)


def test_observations_paginate_by_id_and_filter(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(run, [observation(i, Outcome.COMPLIANT, track=i) for i in range(5)])
    first_page = store.observations(limit=2)
    second_page = store.observations(limit=2, after_id=first_page[-1]["id"])
    assert [row["track_id"] for row in first_page + second_page] == [0, 1, 2, 3]
    assert len(store.observations(start=T0 + timedelta(minutes=3))) == 2
    assert store.count_observations() == 5


def test_a_store_from_a_newer_version_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'v.db'}"
    open_store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE meta SET value = '99' WHERE key = 'schema_version'"))
    engine.dispose()
    with pytest.raises(VisionError, match="newer than this vision"):
        open_store(url)


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y"])
def test_bad_store_urls_are_named(url):
    with pytest.raises(VisionError, match="store url"):
        open_store(url)


def test_naive_times_are_refused(store):
    bad = observation(1, Outcome.COMPLIANT)
    bad = Observation(**{**bad.__dict__, "ended_at": bad.ended_at.replace(tzinfo=None)})
    with pytest.raises(ValueError, match="naive datetime"):
        store.add_observations(1, [bad])
