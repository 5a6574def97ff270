"""The store on a real SQLite file (and PostgreSQL when VISION_TEST_POSTGRES_URL names one)."""

import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from vision.compliance.rates import DetectorError, RateService, RateSettings
from vision.config import VisionConfig
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.store import SCHEMA_VERSION, open_store
from vision.store.database import MIGRATIONS, REVISIONS
from vision.store.schema import metadata
from vision.tracking import Observation
from vision.tracking.trip import Trip

DATA = Path(__file__).resolve().parents[1] / "data"
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
    assert {(row.outcome, row.n, row.shared_vehicle) for row in rows} == {
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


def _pre_alembic_store(url: str, version: int) -> None:
    """A store as vision wrote it before Alembic: schema ``version``, ``meta`` says so, no ``alembic_version``."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, REVISIONS[version])
        connection.execute(sa.text("DROP TABLE alembic_version"))
        connection.execute(sa.text(f"INSERT INTO meta (key, value) VALUES ('schema_version', '{version}')"))
    engine.dispose()


def _emptied(url: str) -> str:
    """``url`` with no table left (a SQLite file's folder created, PostgreSQL's tables dropped)."""
    open_store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        found = sa.MetaData()
        found.reflect(connection)
        found.drop_all(connection)
    engine.dispose()
    return url


@contextmanager
def _released(url: str, revision: str) -> Iterator[tuple[sa.Connection, Callable[[str], None]]]:
    """The store at ``url`` as a release left it: migrated to ``revision`` only; yields a connection in one
    transaction and a function that upgrades it to a later revision in that transaction, as later releases did."""
    from alembic import command
    from alembic.config import Config

    engine = sa.create_engine(url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
            yield connection, lambda later: command.upgrade(config, later)
    finally:
        engine.dispose()


def test_a_version_1_store_is_upgraded_in_place_and_keeps_its_rows(store_url):
    url = _emptied(store_url)
    _pre_alembic_store(url, 1)
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO observations (run_id, camera_id, site_id, category, zone, track_id, started_at, ended_at,"
                " outcome, frames, mean_confidence, vote_share, max_size_px)"
                " VALUES (1, 'cam-a', 'gate', 'helmet', NULL, 1, :started, :ended, 'compliant', 10, 0.8, 1.0, 40.0)"
            ),
            {"started": T0.timestamp() + 55, "ended": T0.timestamp() + 60},
        )
    engine.dispose()
    with pytest.raises(VisionError, match="older than this vision"):  # a reader does not upgrade it
        open_store(url, create=False)

    upgraded = open_store(url)
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION == 9
        columns = {column["name"] for column in sa.inspect(upgraded.engine).get_columns("observations")}
        assert {"vehicle_track_id", "riders_on_vehicle", "obs_key", "worker_id"} <= columns
        (old,) = upgraded.observations()
        assert (old.track_id, old.vehicle_track_id, old.riders_on_vehicle, old.obs_key) == (1, None, None, None)
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
        upgraded.migrate()  # idempotent: a second open finds the head revision and changes nothing
        assert upgraded.schema_version() == 9
        with upgraded.engine.connect() as connection:  # the migrated schema is exactly the code's
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        upgraded.close()


def test_a_store_written_by_the_previous_release_keeps_every_row(tmp_path):
    """tests/data/store-schema2.db was written by vision's store code of schema version 2 (before Alembic)."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "store-schema2.db", path)
    store = open_store(f"sqlite:///{path}")
    try:
        assert store.schema_version() == 9
        rows = store.observations(limit=100)
        assert len(rows) == 12 and [r.track_id for r in rows] == list(range(12))
        assert [r.riders_on_vehicle for r in rows[:5]] == [2, 1, 1, 1, 2]
        assert {r.obs_key for r in rows} == {None}
        (point,) = RateService(store).rates(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
        assert (point.compliant, point.non_compliant, point.undetermined) == (4, 4, 4)
        assert store.uptime_intervals(datetime(2026, 11, 2, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC)) == [
            (
                "cam-gate",
                datetime(2026, 11, 2, tzinfo=UTC).timestamp(),
                datetime(2026, 11, 2, 0, 15, tzinfo=UTC).timestamp(),
            )
        ]
        run = store.start_run("demo.yaml", "test")
        key = store.camera_up(run, "cam-gate", datetime(2026, 11, 3, tzinfo=UTC))
        store.camera_down(key, datetime(2026, 11, 3, 0, 5, tzinfo=UTC), "stream ended")
        with store.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        store.close()


def trip(minutes: float, compliant: int, non_compliant: int, undetermined: int = 0, vehicle: int = 1) -> Trip:
    ended = T0 + timedelta(minutes=minutes)
    riders = compliant + non_compliant + undetermined
    return Trip("cam-a", "gate", "helmet", vehicle, ended - timedelta(seconds=6), ended, riders, compliant,
                non_compliant, undetermined)  # fmt: skip


def test_schema_5_to_8_counts_what_was_stored_before_and_after(store_url):
    """A store of schema 5 (no rollups) upgraded step by step as releases did: revision 0006 counts its
    observations into rollups, 0007 adds trips (one written by a schema-7 writer, with its rollup row), 0008
    turns both rollups into tallies. Every count from before the upgrade still counts, and new rows add to it."""
    url = _emptied(store_url)
    with _released(url, "0005") as (connection, upgrade):
        connection.execute(
            sa.text(
                "INSERT INTO observations (run_id, camera_id, site_id, category, track_id, started_at, ended_at,"
                " outcome, frames, mean_confidence, vote_share, max_size_px, riders_on_vehicle)"
                " VALUES (1, 'cam-a', 'gate', 'helmet', :track, :started, :ended, :outcome, 10, 0.8, 1.0, 40.0,"
                " :riders)"
            ),
            [
                {"track": 1, "started": T0.timestamp() + 55, "ended": T0.timestamp() + 60, "outcome": "compliant",
                 "riders": 1},
                {"track": 2, "started": T0.timestamp() + 65, "ended": T0.timestamp() + 70, "outcome": "non_compliant",
                 "riders": 2},
            ],
        )  # fmt: skip
        upgrade("0006")
        assert "trips" not in sa.inspect(connection).get_table_names()
        upgrade("0007")
        connection.execute(
            sa.text(
                "INSERT INTO trips (run_id, camera_id, site_id, category, vehicle_track_id, started_at, ended_at,"
                " riders, compliant, non_compliant, undetermined, outcome, trip_key)"
                " VALUES (1, 'cam-a', 'gate', 'helmet', 9, :started, :ended, 2, 1, 1, 0, 'non_compliant', 'k9')"
            ),
            {"started": T0.timestamp() + 50, "ended": T0.timestamp() + 70},
        )
        connection.execute(
            sa.text(
                "INSERT INTO trip_rollups (hour, site_id, category, outcome, n, shared)"
                " VALUES (:hour, 'gate', 'helmet', 'non_compliant', 1, 1)"
            ),
            {"hour": T0.timestamp() // 3600 * 3600},
        )
    upgraded = open_store(url)
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION == 9
        assert len(upgraded.observations()) == 2
        (people,) = RateService(upgraded).rates(T0, T0 + timedelta(hours=1))
        assert (people.compliant, people.non_compliant, people.passengers) == (1, 1, 1), "counted before the upgrade"
        run = upgraded.start_run("demo.yaml", "test")
        assert upgraded.add_trips(run, [trip(2, 1, 1), trip(3, 1, 0, vehicle=2)]) == 2
        (vehicles,) = RateService(upgraded).rates(T0, T0 + timedelta(hours=1), unit="vehicle")
        assert (vehicles.compliant, vehicles.non_compliant, vehicles.passengers) == (1, 2, 2)
        assert upgraded.rebuild_rollups() >= 1
        (again,) = RateService(upgraded).rates(T0, T0 + timedelta(hours=1), unit="vehicle")
        assert (again.compliant, again.non_compliant, again.passengers) == (1, 2, 2), "the tallies are the rows' count"
        with upgraded.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        upgraded.close()


def test_trips_are_stored_once_and_rate_per_vehicle(store):
    run = store.start_run("demo.yaml", "test")
    trips = [
        trip(1, 2, 0),  # a rider and a passenger, both helmeted: compliant, carrying passengers
        trip(2, 1, 1, vehicle=2),  # one bare head of two: one ticket
        trip(3, 1, 0, vehicle=3),
        trip(4, 0, 0, 1, vehicle=4),  # nobody could be judged: undetermined, not in n
    ]
    assert store.add_trips(run, trips) == 4
    assert store.add_trips(run, trips[:2]) == 0, "a retried write adds nothing"
    (point,) = RateService(store).rates(T0, T0 + timedelta(hours=1), unit="vehicle")
    assert (point.compliant, point.non_compliant, point.undetermined, point.non_rider) == (2, 1, 1, 0)
    assert point.n == 3 and point.estimate.rate == pytest.approx(2 / 3)
    assert point.passengers == 2 and point.passenger_rate is not None
    assert point.passenger_rate.rate == pytest.approx(2 / 4), "passenger carrying: of every trip"
    assert point.adjusted is None and point.unit == "vehicle"
    # Whole hours come from trip_tallies, the rest from the trips: both say the same.
    with store.engine.connect() as connection:
        from vision.store.counts import CountQuery, count_rows

        query = CountQuery(T0.timestamp() - 3600, T0.timestamp() + 7200, 3600, unit="trip")
        assert count_rows(connection, query) == count_rows(connection, query, rollups=False)
        assert sum(row.n for row in count_rows(connection, query)) == 4
    store.rebuild_rollups()
    (again,) = RateService(store).rates(T0, T0 + timedelta(hours=1), unit="vehicle")
    assert again == point
    with pytest.raises(VisionError, match="unit 'car'"):
        RateService(store).rates(T0, T0 + timedelta(hours=1), unit="car")


def test_stores_opened_at_once_migrate_once(postgres_url):
    """Two processes that open a fresh PostgreSQL store at the same moment: one migrates, the other waits."""
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    name = f"race_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    url = sa.engine.make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            open_store(url).close()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        store = open_store(url)
        assert store.schema_version() == SCHEMA_VERSION
        store.close()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f"DROP DATABASE {name} WITH (FORCE)"))
        admin.dispose()


def test_workers_starting_together_sync_the_same_config(store_url):
    """Every worker syncs the config when it starts; a fleet started at once must not trip on a new site's id."""
    stores = [open_store(store_url) for _ in range(4)]
    errors: list[BaseException] = []
    try:
        for attempt in range(5):
            config = VisionConfig.model_validate(
                {
                    "sites": [{"id": f"site-{attempt}", "name": f"Site {attempt}"}],
                    "cameras": [
                        {
                            "id": f"cam-{attempt}",
                            "site": f"site-{attempt}",
                            "source": "a.mp4",
                            "category": "helmet",
                            "model": "m.yaml",
                        }
                    ],
                }
            )
            barrier = threading.Barrier(len(stores))

            def sync(store, config=config, barrier=barrier) -> None:
                barrier.wait()
                try:
                    store.sync_config(config)
                except BaseException as error:
                    errors.append(error)

            threads = [threading.Thread(target=sync, args=(store,)) for store in stores]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert errors == []
        with stores[0].engine.connect() as connection:
            names = connection.execute(sa.text("SELECT id, name FROM sites ORDER BY id")).all()
        assert [tuple(row) for row in names] == [(f"site-{n}", f"Site {n}") for n in range(5)]
    finally:
        for store in stores:
            store.close()


def test_a_store_of_an_unknown_revision_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    open_store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(VisionError, match="revision 9999 is newer"):
        open_store(url)


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


@pytest.fixture(scope="module")
def password_cluster():
    from vision.testing.postgres import NoPostgresError, PostgresCluster

    try:
        cluster = PostgresCluster(password="right-one").start()
    except NoPostgresError as reason:
        pytest.skip(str(reason))
    try:
        yield cluster
    finally:
        cluster.remove()


@pytest.mark.parametrize(
    ("change", "named"),
    [(("right-one", "wrong-one"), "password authentication failed"), (("/postgres", "/no_such_db"), "does not exist")],
)
def test_a_refusal_fails_at_once_where_an_unreachable_server_is_waited_for(password_cluster, change, named):
    import time

    from vision.errors import StoreRefusedError

    url = password_cluster.url.replace(*change)
    started = time.monotonic()
    with pytest.raises(StoreRefusedError, match=named) as caught:
        open_store(url, wait_s=60)
    assert time.monotonic() - started < 5, "a final refusal is not retried for wait_s"
    assert "wrong-one" not in str(caught.value) and "right-one" not in str(caught.value), "no password shown"
    assert open_store(password_cluster.url).engine.url.database == "postgres", "the right password still works"
    unreachable = f"postgresql+psycopg://vision:x@127.0.0.1:{password_cluster.port + 1}/postgres"
    started = time.monotonic()
    with pytest.raises(VisionError) as waited:
        open_store(unreachable, wait_s=2)
    assert not isinstance(waited.value, StoreRefusedError)
    assert time.monotonic() - started >= 2, "an unreachable server is waited for"


def test_schema_8_cameras_measure_their_one_category_after_the_upgrade(store_url):
    """Revision 0009 lists each camera's categories: a schema-8 camera row measures its one category, and its
    uptime still covers that category's rates; a camera written afterwards with [helmet, phone] covers both."""
    url = _emptied(store_url)
    with _released(url, "0008") as (connection, _):
        connection.execute(
            sa.text("INSERT INTO cameras (id, site_id, category, model, enabled) VALUES (:id, 'gate', :c, 'm', true)"),
            [{"id": "cam-a", "c": "helmet"}, {"id": "cam-m", "c": "mask"}],
        )
    upgraded = open_store(url)
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION == 9
        assert {(c.id, c.categories) for c in upgraded.cameras()} == {("cam-a", ("helmet",)), ("cam-m", ("mask",))}
        run = upgraded.start_run("demo.yaml", "test")
        phone = observation(10, Outcome.NON_COMPLIANT, category="phone")
        upgraded.add_observations(run, [observation(10, Outcome.COMPLIANT), phone])
        up = upgraded.camera_up(run, "cam-a", T0)
        upgraded.camera_down(up, T0 + timedelta(minutes=30), "stream ended")
        points = RateService(upgraded).rates(T0, T0 + timedelta(hours=1))
        assert [(p.category, p.coverage_s) for p in points] == [("helmet", 1800), ("phone", 0)]
        upgraded.sync_config(
            VisionConfig.model_validate(
                {
                    "sites": [{"id": "gate", "name": "Gate"}],
                    "cameras": [
                        {"id": "cam-a", "site": "gate", "source": "a.mp4", "categories": ["helmet", "phone"],
                         "model": "m.yaml"}
                    ],
                }
            )
        )  # fmt: skip
        assert next(c for c in upgraded.cameras() if c.id == "cam-a").categories == ("helmet", "phone")
        points = RateService(upgraded).rates(T0, T0 + timedelta(hours=1))
        assert [(p.category, p.coverage_s) for p in points] == [("helmet", 1800), ("phone", 1800)]
        with upgraded.engine.connect() as connection:
            assert compare_metadata(MigrationContext.configure(connection), metadata) == []
    finally:
        upgraded.close()
