"""The SQL store, on SQLAlchemy Core.

Times are stored as UTC epoch seconds (``REAL``/``DOUBLE``): one representation that never loses
its zone, bucketed in the site's local time by :meth:`Store.counts` with a floor that is exact on
both SQLite and PostgreSQL (:class:`FloorDiv`). Every write
is its own transaction, so a ``kill -9`` loses nothing that was already written; SQLite runs in
WAL mode with ``synchronous=NORMAL``, which is durable against a crash of the process (only an
OS crash or power cut can lose the last commits).

Schema versions: 1, the first; 2 adds ``observations.vehicle_track_id`` and
``observations.riders_on_vehicle`` (rider linking; null where a camera does not link riders).
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from vision.config import VisionConfig
from vision.errors import VisionError
from vision.outcome import Outcome
from vision.tracking.observation import Observation

SCHEMA_VERSION = 2

metadata = sa.MetaData()

meta_table = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

sites_table = sa.Table(
    "sites",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("tags", sa.Text, nullable=False, default="[]"),  # JSON list
    sa.Column("lat", sa.Float),
    sa.Column("lon", sa.Float),
)

cameras_table = sa.Table(
    "cameras",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("model", sa.Text, nullable=False),
)

runs_table = sa.Table(
    "runs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Column("config", sa.Text, nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
)

observations_table = sa.Table(
    "observations",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("zone", sa.String(64)),
    sa.Column("track_id", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("frames", sa.Integer, nullable=False),
    sa.Column("mean_confidence", sa.Float, nullable=False),
    sa.Column("vote_share", sa.Float, nullable=False),
    sa.Column("max_size_px", sa.Float, nullable=False),
    sa.Column("vehicle_track_id", sa.Integer),  # schema 2: the two-wheeler track this head rode
    sa.Column("riders_on_vehicle", sa.Integer),  # schema 2: head tracks on that vehicle (>= 2: shared)
    sa.Index("ix_observations_site_time", "site_id", "category", "ended_at"),
    sa.Index("ix_observations_time", "ended_at"),
)

camera_uptime_table = sa.Table(
    "camera_uptime",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("last_frame_at", sa.Float, nullable=False),  # advanced by heartbeats while up
    sa.Column("ended_at", sa.Float),  # null while up, or when the process died
    sa.Column("end_reason", sa.Text),
    sa.Index("ix_uptime_camera_time", "camera_id", "started_at"),
)


camera_status_table = sa.Table(
    "camera_status",
    metadata,
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("fps", sa.Float, nullable=False, default=0.0),
    sa.Column("frames_read", sa.Integer, nullable=False, default=0),
    sa.Column("frames_processed", sa.Integer, nullable=False, default=0),
    sa.Column("frames_dropped", sa.Integer, nullable=False, default=0),
    sa.Column("reconnects", sa.Integer, nullable=False, default=0),
    sa.Column("last_frame_wall_at", sa.Float),  # wall clock of the last decoded frame
    sa.Column("last_error", sa.Text),
    sa.Column("updated_at", sa.Float, nullable=False),  # wall clock of this report
)


# DDL that takes a store from the version before to this one (SQLite and PostgreSQL alike).
_UPGRADES: dict[int, tuple[str, ...]] = {
    2: (
        "ALTER TABLE observations ADD COLUMN vehicle_track_id INTEGER",
        "ALTER TABLE observations ADD COLUMN riders_on_vehicle INTEGER",
    ),
}


def epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the store needs zone-aware times")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True)
class CountRow:
    """Observations of one site, category, local bucket, UTC offset and outcome.

    ``bucket`` is ``floor((ended_at + utc_offset_s - daily_start_s) / bucket_seconds)`` (0 for one
    whole-range bucket): with the offset of the site's zone at ``ended_at``, bucket ``k`` of a day
    bucket is the local day ``k`` days after 1970-01-01. ``utc_offset_s`` tells apart two real
    hours that a clock shows alike when daylight saving ends. ``shared_vehicle`` is how many of
    those ``count`` observations had ``riders_on_vehicle >= 2`` (a head that shared its
    two-wheeler with another head).
    """

    site_id: str
    category: str
    bucket: int
    utc_offset_s: int
    outcome: Outcome
    count: int
    shared_vehicle: int


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
    id: str
    site_id: str
    category: str
    model: str


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


class FloorDiv(FunctionElement[int]):
    """``floor(numerator / denominator)`` as an integer, exact on SQLite and PostgreSQL alike.

    ``CAST(x AS INTEGER)`` truncates on SQLite but rounds on PostgreSQL (10:45 would land in the
    11:00 bucket), so each dialect gets its own exact spelling.
    """

    type = sa.BigInteger()
    name = "floor_div"
    inherit_cache = True


@compiles(FloorDiv)
def _floor_div(element: FloorDiv, compiler: SQLCompiler, **kw: Any) -> str:
    numerator, denominator = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(FLOOR(({numerator}) / ({denominator})) AS BIGINT)"


@compiles(FloorDiv, "sqlite")
def _floor_div_sqlite(element: FloorDiv, compiler: SQLCompiler, **kw: Any) -> str:
    numerator, denominator = (compiler.process(clause, **kw) for clause in element.clauses)
    quotient = f"(({numerator}) * 1.0 / ({denominator}))"
    return f"(CAST({quotient} AS INTEGER) - ({quotient} < CAST({quotient} AS INTEGER)))"


def _number(value: float) -> sa.ColumnElement[Any]:
    """A numeric constant written into the SQL (not a bound parameter), so GROUP BY repeats it verbatim."""
    return sa.literal_column(repr(int(value)) if float(value).is_integer() else repr(float(value)))


class Store:
    """Reads and writes the observation store. Thread-safe: each call takes its own connection."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _begin(self) -> Iterator[Connection]:
        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as error:
            raise VisionError(f"store {self.engine.url.render_as_string(hide_password=True)}: {error.orig}") from error

    # --- schema -------------------------------------------------------------------------------
    def migrate(self) -> None:
        """Create the schema, or upgrade an older one in place; a newer one is refused (VisionError)."""
        with self._begin() as connection:
            metadata.create_all(connection)
            row = connection.execute(sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")).first()
            if row is None:
                connection.execute(sa.insert(meta_table).values(key="schema_version", value=str(SCHEMA_VERSION)))
                return
            found = int(row.value)
        if found > SCHEMA_VERSION:
            raise VisionError(
                f"store schema version {found} is newer than this vision's ({SCHEMA_VERSION}): upgrade vision"
            )
        for version in range(found + 1, SCHEMA_VERSION + 1):
            self._upgrade_to(version)

    def _upgrade_to(self, version: int) -> None:
        """Upgrade the schema from ``version - 1`` to ``version`` in one transaction.

        The version is bumped first, as a compare-and-set: the UPDATE takes the write lock (on
        SQLite it is also what opens the transaction: pysqlite sends no BEGIN before DDL, so DDL
        first would commit on its own), and a process that lost a race to migrate the same store
        finds the version already moved and changes nothing.
        """
        if version not in _UPGRADES:  # pragma: no cover - every version up to SCHEMA_VERSION has one
            raise VisionError(f"no migration to store schema version {version}")
        with self._begin() as connection:
            bumped = connection.execute(
                sa.update(meta_table)
                .where(meta_table.c.key == "schema_version", meta_table.c.value == str(version - 1))
                .values(value=str(version))
            ).rowcount
            if bumped == 0:
                return  # another process upgraded it meanwhile
            for statement in _UPGRADES[version]:
                connection.execute(sa.text(statement))

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

    def schema_version(self) -> int:
        with self._begin() as connection:
            return int(
                connection.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "schema_version")
                ).scalar_one()
            )

    # --- writes -------------------------------------------------------------------------------
    def sync_config(self, config: VisionConfig) -> None:
        """Upsert the config's sites and cameras (rows of removed ones stay: their history does)."""
        with self._begin() as connection:
            for site in config.sites:
                values = {"name": site.name, "tags": json.dumps(list(site.tags)), "lat": site.lat, "lon": site.lon}
                if (
                    connection.execute(
                        sa.update(sites_table).where(sites_table.c.id == site.id).values(**values)
                    ).rowcount
                    == 0
                ):
                    connection.execute(sa.insert(sites_table).values(id=site.id, **values))
            for camera in config.cameras:
                values = {"site_id": camera.site, "category": camera.category.value, "model": str(camera.model)}
                if (
                    connection.execute(
                        sa.update(cameras_table).where(cameras_table.c.id == camera.id).values(**values)
                    ).rowcount
                    == 0
                ):
                    connection.execute(sa.insert(cameras_table).values(id=camera.id, **values))

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

    def add_observations(self, run_id: int, observations: Sequence[Observation]) -> None:
        """Write finished tracks in one transaction: all of them are stored, or none."""
        if not observations:
            return
        rows = [
            {
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
            }
            for o in observations
        ]
        with self._begin() as connection:
            connection.execute(sa.insert(observations_table), rows)

    def camera_up(self, run_id: int, camera_id: str, at: datetime) -> int:
        """Open an up-interval for a camera; returns its id for heartbeats and :meth:`camera_down`."""
        with self._begin() as connection:
            result = connection.execute(
                sa.insert(camera_uptime_table).values(
                    run_id=run_id, camera_id=camera_id, started_at=epoch(at), last_frame_at=epoch(at)
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            return int(key[0])

    def camera_heartbeat(self, interval_id: int, last_frame_at: datetime) -> None:
        with self._begin() as connection:
            connection.execute(
                sa.update(camera_uptime_table)
                .where(camera_uptime_table.c.id == interval_id)
                .values(last_frame_at=epoch(last_frame_at))
            )

    def camera_down(self, interval_id: int, last_frame_at: datetime, reason: str) -> None:
        with self._begin() as connection:
            connection.execute(
                sa.update(camera_uptime_table)
                .where(camera_uptime_table.c.id == interval_id)
                .values(last_frame_at=epoch(last_frame_at), ended_at=epoch(last_frame_at), end_reason=reason[:500])
            )

    def set_camera_status(self, camera_id: str, **status: object) -> None:
        """Upsert one camera's latest health (state, counters, ``last_frame_wall_at`` epoch s, ``last_error``)."""
        values = {**status, "updated_at": time.time()}
        with self._begin() as connection:
            table = camera_status_table
            if (
                connection.execute(sa.update(table).where(table.c.camera_id == camera_id).values(**values)).rowcount
                == 0
            ):
                connection.execute(sa.insert(table).values(camera_id=camera_id, **values))

    # --- reads --------------------------------------------------------------------------------
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
    ) -> list[CountRow]:
        """Observation counts per site, category, local bucket and outcome, for ``start <= ended_at < end``.

        ``utc_offsets`` are ``(from, to, offset_s)`` spans (epoch seconds, in order) of the sites'
        zone; none means UTC. Buckets are aligned to local midnight, hour or minute in that zone
        (see :class:`CountRow`); ``bucket_seconds=None`` makes the whole range one bucket.
        ``daily=(start_s, length_s)`` keeps only observations in that part of each local day (a
        period such as 07:00-09:00) and counts days from its start. ``site_ids`` narrows to those
        sites and ``exclude_site_ids`` leaves some out (sites of another zone). Each row also says
        how many of its observations rode a shared two-wheeler (``riders_on_vehicle >= 2``).
        """
        o = observations_table.c
        offset: sa.ColumnElement[Any]
        if len(utc_offsets) > 1:
            offset = sa.case(
                *[(o.ended_at < _number(to), _number(off)) for _, to, off in utc_offsets[:-1]],
                else_=_number(utc_offsets[-1][2]),
            )
        else:
            offset = _number(utc_offsets[0][2] if utc_offsets else 0)
        daily_start, daily_length = daily if daily is not None else (0, 86400)
        local = o.ended_at + offset - _number(daily_start)
        group: list[sa.ColumnElement[Any]]
        if bucket_seconds is None:
            bucket: sa.ColumnElement[Any] = sa.literal_column("0")
            offset_column: sa.ColumnElement[Any] = sa.literal_column("0")
            group = []
        else:
            bucket = FloorDiv(local, _number(bucket_seconds))
            offset_column = offset
            # A constant in GROUP BY would read as a column position: group by the offset only when it varies.
            group = [offset, bucket] if len(utc_offsets) > 1 else [bucket]
        shared = sa.func.sum(sa.case((o.riders_on_vehicle >= 2, 1), else_=0))
        query = (
            sa.select(
                o.site_id,
                o.category,
                bucket.label("bucket"),
                offset_column.label("utc_offset"),
                o.outcome,
                sa.func.count().label("n"),
                shared.label("shared"),
            )
            .where(o.ended_at >= epoch(start), o.ended_at < epoch(end))
            .group_by(o.site_id, o.category, *group, o.outcome)
            .order_by(o.site_id, o.category)
        )
        if daily is not None:
            query = query.where(local - FloorDiv(local, _number(86400)) * _number(86400) < _number(daily_length))
        if site_ids is not None:
            query = query.where(o.site_id.in_(sorted(site_ids)))
        if exclude_site_ids:
            query = query.where(o.site_id.not_in(sorted(exclude_site_ids)))
        if category is not None:
            query = query.where(o.category == category)
        if run_id is not None:
            query = query.where(o.run_id == run_id)
        with self._begin() as connection:
            return [
                CountRow(
                    site_id=row.site_id,
                    category=row.category,
                    bucket=int(row.bucket),
                    utc_offset_s=int(row.utc_offset),
                    outcome=Outcome(row.outcome),
                    count=row.n,
                    shared_vehicle=int(row.shared or 0),
                )
                for row in connection.execute(query)
            ]

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
        with self._begin() as connection:
            return [ObservationRow(**row._mapping) for row in connection.execute(query)]

    def outcome_totals(self) -> list[tuple[str, str, str, int]]:
        """All-time ``(site_id, category, outcome, count)``: monotonic, the basis of a Prometheus counter."""
        o = observations_table.c
        query = sa.select(o.site_id, o.category, o.outcome, sa.func.count()).group_by(o.site_id, o.category, o.outcome)
        with self._begin() as connection:
            return [(row[0], row[1], row[2], int(row[3])) for row in connection.execute(query)]

    def count_observations(self) -> int:
        with self._begin() as connection:
            return int(connection.execute(sa.select(sa.func.count()).select_from(observations_table)).scalar_one())

    def cameras(self) -> list[CameraRow]:
        with self._begin() as connection:
            return [
                CameraRow(**row._mapping)
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


def open_store(url: str, create: bool = True) -> Store:
    """Open (and by default create or migrate) the store at a SQLAlchemy ``url``.

    A relative SQLite path is relative to the working directory; its folder is created. With
    ``create=False`` no schema is created or changed: a store of another schema version is a
    VisionError.
    """
    try:
        parsed = sa.engine.make_url(url)
    except ArgumentError as error:
        raise VisionError(f"store url {url!r} is not a database URL (e.g. sqlite:///out/vision.db)") from error
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = sa.create_engine(parsed)
    except (ArgumentError, ImportError) as error:
        raise VisionError(f"store url {url!r}: {error}") from error
    if parsed.get_backend_name() == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    store = Store(engine)
    if create:
        store.migrate()
    else:
        store.check_schema()
    return store
