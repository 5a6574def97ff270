"""The SQL store, on SQLAlchemy Core.

Times are stored as UTC epoch seconds (``REAL``/``DOUBLE``): one representation that never loses
its zone, bucketed in the site's local time by :meth:`Store.counts` with a floor that is exact on
both SQLite and PostgreSQL (:class:`FloorDiv`). Every write
is its own transaction, so a ``kill -9`` loses nothing that was already written; SQLite runs in
WAL mode with ``synchronous=NORMAL``, which is durable against a crash of the process (only an
OS crash or power cut can lose the last commits).

The schema changes through Alembic revisions (``vision/store/migrations/versions``), applied by
:meth:`Store.migrate` whenever a ``vision`` command opens a store: 0001 the first schema, 0002
rider linking (``observations.vehicle_track_id``, ``riders_on_vehicle``), 0003 many workers
(leases, worker health, shared alert state, idempotency keys), 0004 evidence and audits, 0005 fencing
tokens and evidence in the store, 0006 the hourly rollups (:mod:`vision.store.counts`), 0007 trips, 0008
tallies, 0009 each camera's categories. ``meta.schema_version`` mirrors the revision as a number (1, 2, 3)
for stores written before Alembic, which are stamped and upgraded in place.

Workers and leases live in :mod:`vision.store.leases`, evidence and audits in :mod:`vision.store.audits`
(both mixed into :class:`Store`); the counts' queries in
:mod:`vision.store.counts`; the tables in :mod:`vision.store.schema`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import time
import uuid
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, OperationalError

from vision.config import VisionConfig
from vision.errors import StoreRefusedError, VisionError
from vision.store import counts
from vision.store.audits import Audits
from vision.store.counts import CountQuery, CountRow, TallyKey
from vision.store.leases import Leases
from vision.store.schema import (
    _insert_new,
    _insert_new_keys,
    _upsert,
    alert_state_table,
    camera_status_table,
    camera_uptime_table,
    cameras_table,
    epoch,
    meta_table,
    observations_table,
    runs_table,
    sites_table,
    trips_table,
)
from vision.tracking.observation import Observation
from vision.tracking.trip import Trip

SCHEMA_VERSION = 9
# schema_version -> Alembic revision
REVISIONS = {1: "0001", 2: "0002", 3: "0003", 4: "0004", 5: "0005", 6: "0006", 7: "0007", 8: "0008", 9: "0009"}
MIGRATIONS = Path(__file__).with_name("migrations")
_PG_MIGRATION_LOCK = 7_406_113  # pg_advisory_xact_lock key: one process migrates at a time
NEVER = -1e18  # alert_state.last_sent_at of an alert never sent (finite: a REAL column everywhere)


@dataclass(frozen=True)
class SiteRow:
    """A site as the store knows it (synced from a config; kept after it leaves the config)."""

    id: str
    name: str
    tags: tuple[str, ...]
    lat: float | None
    lon: float | None


@dataclass(frozen=True)
class CameraRow:
    """A configured camera; ``categories``: every category it measures (``category``, its model's, first)."""

    id: str
    site_id: str
    category: str
    model: str
    enabled: bool = True
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class CameraStatus:
    """A camera's latest health report; ``last_frame_wall_at`` and ``updated_at`` are wall-clock epoch seconds."""

    camera_id: str
    state: str
    fps: float
    frames_read: int
    frames_processed: int
    frames_dropped: int
    reconnects: int
    last_frame_wall_at: float | None
    last_error: str | None
    updated_at: float
    worker_id: str | None = None


@dataclass(frozen=True)
class CameraReport:
    """What a worker reports of a camera's stream, written to its status row with the time and the worker
    (read back as :class:`CameraStatus`); ``last_frame_wall_at`` is wall-clock epoch seconds."""

    state: str
    fps: float = 0.0
    frames_read: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    reconnects: int = 0
    last_frame_wall_at: float | None = None
    last_error: str | None = None

    def status_row(self) -> dict[str, object]:
        """The camera status row's values for this report, made now (``updated_at``, epoch s)."""
        return {**dataclasses.asdict(self), "updated_at": time.time()}


@dataclass(frozen=True)
class ObservationRow:
    """One stored observation (a finished track); times are UTC epoch seconds."""

    id: int
    run_id: int
    camera_id: str
    site_id: str
    category: str
    zone: str | None
    track_id: int
    started_at: float
    ended_at: float
    outcome: str
    frames: int
    mean_confidence: float
    vote_share: float
    max_size_px: float
    vehicle_track_id: int | None
    riders_on_vehicle: int | None
    obs_key: str | None = None
    worker_id: str | None = None
    lease_generation: int | None = None  # the fencing token of the worker's lease (None: vision run)


def observation_row(run_id: int, observation: Observation, worker_id: str | None = None) -> dict[str, Any]:
    """The ``observations`` row of a finished track (also what a worker's spool keeps, as JSON)."""
    o = observation
    return {
        "run_id": run_id,
        "camera_id": o.camera_id,
        "site_id": o.site_id,
        "category": o.category,
        "zone": o.zone,
        "track_id": o.track_id,
        "started_at": epoch(o.started_at),
        "ended_at": epoch(o.ended_at),
        "outcome": o.outcome.value,
        "frames": o.frames,
        "mean_confidence": o.mean_confidence,
        "vote_share": o.vote_share,
        "max_size_px": o.max_size_px,
        "vehicle_track_id": o.vehicle_track_id,
        "riders_on_vehicle": o.riders_on_vehicle,
        "obs_key": o.key,
        "worker_id": worker_id,
    }


def trip_row(run_id: int, trip: Trip, worker_id: str | None = None) -> dict[str, Any]:
    """The ``trips`` row of a finished trip (also what a spool keeps, as JSON)."""
    return {
        "run_id": run_id,
        "camera_id": trip.camera_id,
        "site_id": trip.site_id,
        "category": trip.category,
        "vehicle_track_id": trip.vehicle_track_id,
        "started_at": epoch(trip.started_at),
        "ended_at": epoch(trip.ended_at),
        "riders": trip.riders,
        "compliant": trip.compliant,
        "non_compliant": trip.non_compliant,
        "undetermined": trip.undetermined,
        "outcome": trip.outcome.value,
        "trip_key": trip.key,
        "worker_id": worker_id,
    }


REFUSALS = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "does not exist",  # database "x" / role "x"
    "no pg_hba.conf entry",
    "permission denied",
)


def refused(error: OperationalError) -> bool:
    """True when the database answered with a final refusal (see ``REFUSALS``), not when it is unreachable."""
    message = str(error.orig).lower()
    return any(words in message for words in REFUSALS)


class Store(Leases, Audits):
    """Reads and writes the observation store. Thread-safe: each call takes its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as error:
            where = self.engine.url.render_as_string(hide_password=True)
            if refused(error):
                raise StoreRefusedError(f"store {where} refused the connection: {error.orig}") from error
            raise VisionError(f"store {where}: {error.orig}") from error

    # --- schema -------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create the schema, or upgrade an older one in place (Alembic); a newer one is refused.

        One transaction: on PostgreSQL an advisory lock makes a second process that opens the same
        store wait, then find nothing left to do. A store written before Alembic (``meta`` says
        schema 1 or 2, no ``alembic_version``) is first stamped with the matching revision.
        """
        from alembic import command
        from alembic.config import Config
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        known = {revision.revision for revision in ScriptDirectory.from_config(config).walk_revisions()}
        with self._begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(sa.text(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})"))
            config.attributes["connection"] = connection
            current = MigrationContext.configure(connection).get_current_revision()
            legacy = self._legacy_version(connection) if current is None else None
            if current is not None and current not in known:
                raise VisionError(
                    f"store schema revision {current} is newer than this vision's ({REVISIONS[SCHEMA_VERSION]}):"
                    " upgrade vision"
                )
            recorded = self._legacy_version(connection)
            if recorded is not None and recorded > SCHEMA_VERSION:
                raise VisionError(
                    f"store schema version {recorded} is newer than this vision's ({SCHEMA_VERSION}): upgrade vision"
                )
            if legacy is not None:
                command.stamp(config, REVISIONS[legacy])
            command.upgrade(config, "head")
            if connection.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "store_id")).first() is None:
                connection.execute(sa.insert(meta_table).values(key="store_id", value=uuid.uuid4().hex))
            _upsert(connection, meta_table, {"key": "schema_version", "value": str(SCHEMA_VERSION)}, key="key")

    @staticmethod
    def _legacy_version(connection: Connection) -> int | None:
        """``meta.schema_version`` of a store that Alembic never touched, or None for an empty database."""
        if not sa.inspect(connection).has_table(meta_table.name):
            return None
        value = connection.execute(
            sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
        ).scalar_one_or_none()
        return None if value is None else int(value)

    def check_schema(self) -> None:
        """Refuse, with a VisionError that says what to do, a store whose schema is not this code's.

        For a store opened without migrating (``open_store(create=False)``): its queries would
        otherwise fail on a missing column. A database without the meta table is left alone.
        """
        with self._begin() as connection:
            if not sa.inspect(connection).has_table(meta_table.name):
                return
            row = connection.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
        if row is None:
            return
        found = int(row.value)
        if found > SCHEMA_VERSION:
            raise VisionError(
                f"store schema version {found} is newer than this vision's ({SCHEMA_VERSION}): upgrade vision"
            )
        if found < SCHEMA_VERSION:
            raise VisionError(
                f"store schema version {found} is older than this vision's ({SCHEMA_VERSION}):"
                " run `vision run` or `vision serve` on it once, which upgrades it"
            )

    def identity(self) -> str:
        """A random id this database got when it was first migrated (a spool names the store it belongs to)."""
        with self._begin() as connection:
            value = connection.execute(
                sa.select(meta_table.c.value).where(meta_table.c.key == "store_id")
            ).scalar_one_or_none()
        return value or self.engine.url.render_as_string(hide_password=True)

    def schema_version(self) -> int:
        with self._begin() as connection:
            return int(
                connection.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                ).scalar_one()
            )

    # --- writes -------------------------------------------------------------------------------
    def sync_config(self, config: VisionConfig) -> None:
        """Upsert the config's sites and cameras (rows of removed ones stay: their history does).

        One ``INSERT ... ON CONFLICT DO UPDATE`` per row: workers that start together all sync the
        same config, and an update-then-insert would let two of them insert the same id at once.
        """
        with self._begin() as connection:
            for site in config.sites:
                _upsert(
                    connection,
                    sites_table,
                    {
                        "id": site.id,
                        "name": site.name,
                        "tags": json.dumps(list(site.tags)),
                        "lat": site.lat,
                        "lon": site.lon,
                    },
                )
            for camera in config.cameras:
                _upsert(
                    connection,
                    cameras_table,
                    {
                        "id": camera.id,
                        "site_id": camera.site,
                        "category": camera.category.value,
                        "categories": json.dumps([category.value for category in camera.categories]),
                        "model": str(camera.model),
                        "enabled": camera.enabled,
                    },
                )

    def start_run(self, config_path: Path | str, version: str) -> int:
        with self._begin() as connection:
            result = connection.execute(
                sa.insert(runs_table).values(started_at=time.time(), config=str(config_path), version=version)
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def end_run(self, run_id: int) -> None:
        with self._begin() as connection:
            connection.execute(sa.update(runs_table).where(runs_table.c.id == run_id).values(ended_at=time.time()))

    def add_observations(self, run_id: int, observations: Sequence[Observation], worker_id: str | None = None) -> int:
        """Write finished tracks in one transaction (all or none); returns how many were new.

        An observation whose key is already stored (a retried write) is skipped, not doubled.
        """
        with self._begin() as connection:
            return self.insert_observation_rows(
                connection, [observation_row(run_id, o, worker_id) for o in observations]
            )

    @staticmethod
    def insert_observation_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
        """Insert the rows whose key is new, and count exactly those in the rollups, in ``connection``'s
        transaction; returns how many were new."""
        keys = set(_insert_new_keys(connection, observations_table, rows, "obs_key"))
        inserted = [row for row in rows if row.get("obs_key") in keys]
        counts.add(connection, inserted)
        return len(inserted)

    def add_trips(self, run_id: int, trips: Sequence[Trip], worker_id: str | None = None) -> int:
        """Write finished trips in one transaction; returns how many were new (a retried key is skipped)."""
        with self._begin() as connection:
            return self.insert_trip_rows(connection, [trip_row(run_id, t, worker_id) for t in trips])

    @staticmethod
    def insert_trip_rows(connection: Connection, rows: Sequence[dict[str, Any]]) -> int:
        """Insert the trip rows whose key is new and count exactly those in ``trip_tallies``; returns how many."""
        keys = set(_insert_new_keys(connection, trips_table, rows, "trip_key"))
        inserted = [row for row in rows if row.get("trip_key") in keys]
        counts.add_trips(connection, inserted)
        return len(inserted)

    def rebuild_rollups(self) -> int:
        """Recount the rollups from the raw observations (one transaction); returns the hourly rows written."""
        with self._begin() as connection:
            return counts.rebuild(connection)

    def camera_up(self, run_id: int, camera_id: str, at: datetime, key: str | None = None) -> str:
        """Open an up-interval for a camera; returns its key for heartbeats and :meth:`camera_down`."""
        key = key or uuid.uuid4().hex
        with self._begin() as connection:
            self.uptime_ops(connection, [("up", key, run_id, camera_id, epoch(at), None, None)])
        return key

    def camera_heartbeat(self, key: str, last_frame_at: datetime) -> None:
        with self._begin() as connection:
            self.uptime_ops(connection, [("beat", key, None, None, epoch(last_frame_at), None, None)])

    def camera_down(self, key: str, last_frame_at: datetime, reason: str) -> None:
        with self._begin() as connection:
            self.uptime_ops(connection, [("down", key, None, None, epoch(last_frame_at), reason, None)])

    @staticmethod
    def uptime_ops(
        connection: Connection, ops: Sequence[tuple[str, str, int | None, str | None, float, str | None, int | None]]
    ) -> None:
        """Apply ``(op, key, run_id, camera_id, at, reason, lease_generation)`` up-interval changes in order;
        each is idempotent.

        ``up`` opens interval ``key`` at ``at`` (again: nothing), ``beat`` extends it to ``at``,
        ``down`` closes it at ``at`` with ``reason``. Times are epoch seconds.
        """
        u = camera_uptime_table.c
        for op, key, run_id, camera_id, at, reason, generation in ops:
            if op == "up":
                row = {
                    "run_id": run_id,
                    "camera_id": camera_id,
                    "started_at": at,
                    "last_frame_at": at,
                    "interval_key": key,
                    "lease_generation": generation,
                }
                _insert_new(connection, camera_uptime_table, [row], "interval_key")
            elif op == "beat":
                connection.execute(
                    sa.update(camera_uptime_table)
                    .where(u.interval_key == key, u.ended_at.is_(None), u.last_frame_at < at)
                    .values(last_frame_at=at)
                )
            else:
                latest = sa.case((u.last_frame_at > at, u.last_frame_at), else_=at)
                connection.execute(
                    sa.update(camera_uptime_table)
                    .where(u.interval_key == key)
                    .values(last_frame_at=latest, ended_at=at, end_reason=(reason or "")[:500])
                )

    def set_camera_status(self, camera_id: str, report: CameraReport) -> None:
        """Upsert a camera's latest health, reported now."""
        with self._begin() as connection:
            self.status_upserts(connection, {camera_id: report.status_row()})

    @staticmethod
    def status_upserts(connection: Connection, statuses: dict[str, dict[str, object]]) -> None:
        for camera_id, values in statuses.items():
            _upsert(connection, camera_status_table, {"camera_id": camera_id, **values}, key="camera_id")

    # --- alert state (shared by every `vision serve` replica) ---------------------------------
    def claim_alert(self, key: str, now: float, cooldown_s: float) -> float | None:
        """Take the right to send alert ``key`` at ``now`` (epoch s): the previous send time, or None if not due.

        A conditional UPDATE: of several replicas asking at once, exactly one finds the cooldown
        over. The winner calls :meth:`unclaim_alert` with the returned time if the send failed.
        """
        table = alert_state_table
        with self._begin() as connection:
            _insert_new(connection, table, [{"key": key, "last_sent_at": NEVER, "sent": 0}], "key")
            previous: float = connection.execute(sa.select(table.c.last_sent_at).where(table.c.key == key)).scalar_one()
            taken = connection.execute(
                sa.update(table)
                .where(table.c.key == key, table.c.last_sent_at <= now - cooldown_s)
                .values(last_sent_at=now, sent=table.c.sent + 1)
            ).rowcount
        return float(previous) if taken == 1 else None

    def unclaim_alert(self, key: str, previous: float) -> None:
        table = alert_state_table
        with self._begin() as connection:
            connection.execute(
                sa.update(table).where(table.c.key == key).values(last_sent_at=previous, sent=table.c.sent - 1)
            )

    # --- reads --------------------------------------------------------------------------------
    def observation(self, observation_id: int) -> ObservationRow | None:
        with self._begin() as connection:
            row = connection.execute(
                sa.select(observations_table).where(observations_table.c.id == observation_id)
            ).first()
        return None if row is None else ObservationRow(**row._mapping)

    def camera_statuses(self) -> dict[str, CameraStatus]:
        """Camera id -> its latest health report."""
        with self._begin() as connection:
            return {
                row.camera_id: CameraStatus(**row._mapping)
                for row in connection.execute(sa.select(camera_status_table))
            }

    def ping(self) -> None:
        """Raise :class:`VisionError` if the database cannot be reached."""
        with self._begin() as connection:
            connection.execute(sa.select(1))

    def counts(
        self,
        start: datetime,
        end: datetime,
        bucket_seconds: int | None,
        category: str | None = None,
        run_id: int | None = None,
        *,
        site_ids: Collection[str] | None = None,
        exclude_site_ids: Collection[str] = (),
        utc_offsets: Sequence[tuple[float, float, int]] = (),
        daily: tuple[int, int] | None = None,
        unit: str = "person",
    ) -> list[CountRow]:
        """Observation counts per site, category, local bucket and outcome, for ``start <= ended_at < end``
        (``unit="trip"``: trips per vehicle outcome, ``shared`` counting those that carried passengers).

        ``utc_offsets`` are ``(from, to, offset_s)`` spans (epoch seconds, in order) of the sites'
        zone; none means UTC. Buckets are aligned to local midnight, hour or minute in that zone
        (see :class:`CountRow`); ``bucket_seconds=None`` makes the whole range one bucket.
        ``daily=(start_s, length_s)`` keeps only observations in that part of each local day (a
        period such as 07:00-09:00) and counts days from its start. ``site_ids`` narrows to those
        sites and ``exclude_site_ids`` leaves some out (sites of another zone). Each row also says
        how many of its observations rode a shared two-wheeler (``riders_on_vehicle >= 2``).
        """
        query = CountQuery(
            epoch(start),
            epoch(end),
            bucket_seconds,
            category,
            run_id,
            site_ids,
            exclude_site_ids,
            utc_offsets,
            daily,
            unit,
        )
        return self.counts_of(query)

    def tallies_of(self, query: CountQuery) -> dict[TallyKey, list[int]]:
        """:meth:`counts_of` as one tally per site, category, bucket and offset (:func:`counts.tally_rows`)."""
        with self._begin() as connection:
            return counts.tally_rows(connection, query)

    def counts_of(self, query: CountQuery) -> list[CountRow]:
        """:meth:`counts` for a prepared query (whole hours from the rollups, see :mod:`vision.store.counts`)."""
        with self._begin() as connection:
            return counts.count_rows(connection, query)

    def uptime_intervals(self, start: datetime, end: datetime) -> list[tuple[str, float, float]]:
        """``(camera_id, from, to)`` epoch-second intervals in which each camera delivered frames."""
        u = camera_uptime_table.c
        finish = sa.func.coalesce(u.ended_at, u.last_frame_at)
        query = sa.select(u.camera_id, u.started_at, finish.label("finish")).where(
            u.started_at < epoch(end), finish > epoch(start)
        )
        with self._begin() as connection:
            return [(row.camera_id, row.started_at, row.finish) for row in connection.execute(query)]

    def observations(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        site_id: str | None = None,
        limit: int = 100,
        after_id: int = 0,
        outcome: str | None = None,
        camera_id: str | None = None,
    ) -> list[ObservationRow]:
        """Raw observations in id order, ``limit`` after ``after_id`` (keyset pagination)."""
        o = observations_table.c
        query = sa.select(observations_table).where(o.id > after_id).order_by(o.id).limit(limit)
        if start is not None:
            query = query.where(o.ended_at >= epoch(start))
        if end is not None:
            query = query.where(o.ended_at < epoch(end))
        if site_id is not None:
            query = query.where(o.site_id == site_id)
        if outcome is not None:
            query = query.where(o.outcome == outcome)
        if camera_id is not None:
            query = query.where(o.camera_id == camera_id)
        with self._begin() as connection:
            return [ObservationRow(**row._mapping) for row in connection.execute(query)]

    def outcome_totals(self) -> list[tuple[str, str, str, int]]:
        """All-time ``(site_id, category, outcome, count)``: monotonic, the basis of a Prometheus counter."""
        with self._begin() as connection:
            return counts.outcome_totals(connection)

    def count_observations(self) -> int:
        with self._begin() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(observations_table)).scalar_one())

    def cameras(self) -> list[CameraRow]:
        with self._begin() as connection:
            return [
                CameraRow(**{**row._mapping, "categories": tuple(json.loads(row.categories))})
                for row in connection.execute(sa.select(cameras_table).order_by(cameras_table.c.id))
            ]

    def sites(self) -> list[SiteRow]:
        with self._begin() as connection:
            rows = connection.execute(sa.select(sites_table).order_by(sites_table.c.id))
            return [SiteRow(**{**row._mapping, "tags": tuple(json.loads(row.tags))}) for row in rows]

    def close(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


STORE_ENV = "VISION_STORE_URL"  # a store URL from the environment keeps its password off the command line


def resolve_store_url(explicit: str | None, configured: str) -> str:
    """``--store`` if given, else ``$VISION_STORE_URL``, else the config's ``store.url``."""
    return explicit or os.environ.get(STORE_ENV) or configured


def open_store(url: str, create: bool = True, wait_s: float = 0.0) -> Store:
    """Open (and by default create or migrate) the store at a SQLAlchemy ``url``.

    A relative SQLite path is relative to the working directory; its folder is created. With
    ``create=False`` no schema is created or changed: a store of another schema version is a
    VisionError. ``wait_s`` keeps retrying an unreachable database that long (a worker that starts
    before PostgreSQL does).
    """
    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as error:
        raise VisionError(f"store url {url!r} is not a database URL (e.g. sqlite:///out/vision.db)") from error
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    try:
        engine = sa.create_engine(parsed, connect_args=connect_args, pool_pre_ping=True)
    except (ArgumentError, ImportError) as error:
        raise VisionError(f"store url {url!r}: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine)
    deadline = time.monotonic() + wait_s
    while True:
        try:
            if create:
                store.migrate()
            else:
                store.check_schema()
            return store
        except StoreRefusedError:
            raise  # a wrong password does not become right by waiting
        except VisionError as error:
            if time.monotonic() >= deadline or not isinstance(error.__cause__, OperationalError):
                raise
            time.sleep(1.0)
