"""The store on a real SQLite file (and PostgreSQL when VISION_TEST_POSTGRES_URL names one)."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from vision.compliance.rates import DetectorError, RateService, RateSettings
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


def observation(
    minutes: float,
    outcome: Outcome,
    site="gate",
    camera="cam-a",
    category="helmet",
    track=1,
    vehicle: int | None = None,
    riders: int | None = None,
):
    ended = T0 + timedelta(minutes=minutes)
    return Observation(
        camera,
        site,
        category,
        track,
        ended - timedelta(seconds=5),
        ended,
        outcome,
        10,
        0.8,
        1.0,
        40.0,
        None,
        vehicle,
        riders,
    )


# The observations table of schema version 1, as that version created it (no rider linking).
V1_OBSERVATIONS = """
CREATE TABLE observations (
    id INTEGER NOT NULL PRIMARY KEY {autoincrement},
    run_id INTEGER NOT NULL,
    camera_id VARCHAR(64) NOT NULL,
    site_id VARCHAR(64) NOT NULL,
    category VARCHAR(16) NOT NULL,
    zone VARCHAR(64),
    track_id INTEGER NOT NULL,
    started_at {real} NOT NULL,
    ended_at {real} NOT NULL,
    outcome VARCHAR(16) NOT NULL,
    frames INTEGER NOT NULL,
    mean_confidence {real} NOT NULL,
    vote_share {real} NOT NULL,
    max_size_px {real} NOT NULL
)
"""


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
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
    hourly = RateService(store, RateSettings(min_n=3)).rates(T0, T0 + timedelta(hours=3), "hour")
    summary = [(p.site_id, p.start.hour, p.compliant, p.non_compliant, p.undetermined, p.low_sample) for p in hourly]
    assert summary == [("gate", 8, 2, 1, 0, False), ("gate", 9, 0, 0, 1, True), ("market", 9, 1, 0, 0, True)]
    assert hourly[0].estimate.rate == pytest.approx(2 / 3)
    assert hourly[1].estimate.rate is None  # nothing decided: no rate, not 0 %
    whole = RateService(store).rates(T0, T0 + timedelta(hours=3), site_id="gate")
    assert [(p.compliant, p.non_compliant, p.undetermined, p.start, p.end) for p in whole] == [
        (2, 1, 1, T0, T0 + timedelta(hours=3))
    ]
    # The end of a range is exclusive.
    assert RateService(store).rates(T0, T0 + timedelta(minutes=2))[0].compliant == 1


def test_coverage_adds_camera_seconds_inside_each_window(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(run, [observation(10, Outcome.COMPLIANT), observation(70, Outcome.COMPLIANT, track=2)])
    first = store.camera_up(run, "cam-a", T0 + timedelta(minutes=30))
    store.camera_heartbeat(first, T0 + timedelta(minutes=40))  # still up (or the process died): counts to here
    second = store.camera_up(run, "cam-b", T0)
    store.camera_down(second, T0 + timedelta(minutes=90), "stream ended")
    store.camera_up(run, "cam-m", T0)  # a mask camera: not the gate's helmet coverage
    points = RateService(store).rates(T0, T0 + timedelta(hours=2), "hour")
    assert [p.coverage_s for p in points if p.site_id == "gate"] == [600 + 3600, 1800]


def test_adjusted_rate_uses_the_detector_error(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(run, [observation(i, Outcome.COMPLIANT, track=i) for i in range(8)])
    store.add_observations(run, [observation(i, Outcome.NON_COMPLIANT, track=100 + i) for i in range(2)])
    (point,) = RateService(store, RateSettings(detector_errors={"helmet": DetectorError(0.9, 0.95)})).rates(
        T0, T0 + timedelta(hours=1)
    )
    assert point.adjusted is not None and point.adjusted.rate == pytest.approx(1 - 0.15 / 0.85)


def test_observations_paginate_by_id_and_filter(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(run, [observation(i, Outcome.COMPLIANT, track=i) for i in range(5)])
    first_page = store.observations(limit=2)
    second_page = store.observations(limit=2, after_id=first_page[-1].id)
    assert [row.track_id for row in first_page + second_page] == [0, 1, 2, 3]
    assert len(store.observations(start=T0 + timedelta(minutes=3))) == 2
    assert store.count_observations() == 5


def test_counts_say_how_many_rode_a_shared_two_wheeler(store):
    run = store.start_run("demo.yaml", "test")
    store.add_observations(
        run,
        [
            observation(1, Outcome.COMPLIANT, track=1, vehicle=7, riders=2),  # driver and passenger of vehicle 7
            observation(1, Outcome.NON_COMPLIANT, track=2, vehicle=7, riders=2),
            observation(2, Outcome.COMPLIANT, track=3, vehicle=8, riders=1),  # alone on vehicle 8
            observation(3, Outcome.COMPLIANT, track=4),  # not linked
            observation(4, Outcome.UNDETERMINED, track=5, vehicle=9, riders=3),
            observation(5, Outcome.NON_RIDER, track=6),
            observation(6, Outcome.NON_RIDER, track=7),
        ],
    )
    rows = store.counts(T0, T0 + timedelta(hours=1), None)
    assert {(row.outcome, row.count, row.shared_vehicle) for row in rows} == {
        (Outcome.COMPLIANT, 3, 1),
        (Outcome.NON_COMPLIANT, 1, 1),
        (Outcome.UNDETERMINED, 1, 1),
        (Outcome.NON_RIDER, 2, 0),
    }
    (point,) = RateService(store).rates(T0, T0 + timedelta(hours=1))
    # Non-riders are counted beside the rate, never in n; passengers are the decided ones that shared.
    assert (point.compliant, point.non_compliant, point.undetermined, point.non_rider) == (3, 1, 1, 2)
    assert point.n == 4 and point.passengers == 2
    assert point.estimate.rate == pytest.approx(3 / 4)
    (only_non_riders,) = RateService(store).rates(T0 + timedelta(minutes=5), T0 + timedelta(minutes=7))
    assert (only_non_riders.n, only_non_riders.non_rider, only_non_riders.estimate.rate) == (0, 2, None)


def test_a_version_1_store_is_upgraded_in_place_and_keeps_its_rows(store):
    url = store.engine.url
    postgres = store.engine.dialect.name == "postgresql"
    with store.engine.begin() as connection:  # rebuild the table as schema version 1 had it, with one row
        connection.execute(sa.text("DROP TABLE observations"))
        connection.execute(
            sa.text(
                V1_OBSERVATIONS.format(
                    autoincrement="GENERATED BY DEFAULT AS IDENTITY" if postgres else "",
                    real="DOUBLE PRECISION" if postgres else "FLOAT",
                )
            )
        )
        connection.execute(
            sa.text("CREATE INDEX ix_observations_site_time ON observations (site_id, category, ended_at)")
        )
        connection.execute(sa.text("CREATE INDEX ix_observations_time ON observations (ended_at)"))
        connection.execute(
            sa.text(
                "INSERT INTO observations (run_id, camera_id, site_id, category, zone, track_id, started_at, ended_at,"
                " outcome, frames, mean_confidence, vote_share, max_size_px)"
                " VALUES (1, 'cam-a', 'gate', 'helmet', NULL, 1, :started, :ended, 'compliant', 10, 0.8, 1.0, 40.0)"
            ),
            {"started": T0.timestamp() + 55, "ended": T0.timestamp() + 60},
        )
        connection.execute(sa.text("UPDATE meta SET value = '1' WHERE key = 'schema_version'"))
    store.close()
    with pytest.raises(VisionError, match="older than this vision"):  # a reader does not upgrade it
        open_store(url.render_as_string(hide_password=False), create=False)

    upgraded = open_store(url.render_as_string(hide_password=False))
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION == 2
        columns = {column["name"] for column in sa.inspect(upgraded.engine).get_columns("observations")}
        assert {"vehicle_track_id", "riders_on_vehicle"} <= columns
        (old,) = upgraded.observations()
        assert (old.track_id, old.vehicle_track_id, old.riders_on_vehicle) == (1, None, None)
        run = upgraded.start_run("demo.yaml", "test")
        upgraded.add_observations(
            run,
            [
                observation(2, Outcome.COMPLIANT, track=2, vehicle=5, riders=2),
                observation(2, Outcome.NON_RIDER, track=3),
            ],
        )
        rows = upgraded.observations(after_id=old.id)
        assert [(r.track_id, r.outcome, r.vehicle_track_id, r.riders_on_vehicle) for r in rows] == [
            (2, "compliant", 5, 2),
            (3, "non_rider", None, None),
        ]
        (point,) = RateService(upgraded).rates(T0, T0 + timedelta(hours=1))
        assert (point.compliant, point.non_rider, point.passengers, point.n) == (2, 1, 1, 2)
        upgraded.migrate()  # idempotent: a second open finds version 2 and changes nothing
        assert upgraded.schema_version() == 2
    finally:
        upgraded.close()


def test_a_lost_upgrade_race_changes_nothing(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'race.db'}")
    try:
        store._upgrade_to(2)  # already at 2, as if another process had just upgraded it: no duplicate ALTER
        assert store.schema_version() == 2
    finally:
        store.close()


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
