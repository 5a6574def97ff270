"""The store's tables (one SQLAlchemy ``metadata``, compared with the Alembic revisions by the drift test) and
the SQL helpers every part of the store writes with: epoch times, exact floor division on both dialects,
insert-if-new and upsert."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from vision.outcome import Outcome

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
    sa.Column("category", sa.String(16), nullable=False),  # its first category (its model's)
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),  # schema 3
    sa.Column("categories", sa.Text, nullable=False),  # schema 9: JSON list of every category it measures
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
    sa.Column("obs_key", sa.String(64)),  # schema 3: idempotency key (null for older rows)
    sa.Column("worker_id", sa.String(128)),  # schema 3: the worker that finished it (null: vision run)
    sa.Column("lease_generation", sa.Integer),  # schema 5: the lease it was written under (null: vision run)
    sa.Index("ix_observations_site_time", "site_id", "category", "ended_at"),
    sa.Index("ix_observations_time", "ended_at"),
    sa.Index("uq_observations_key", "obs_key", unique=True),
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
    sa.Column("interval_key", sa.String(64)),  # schema 3: chosen by the writer (see StoreWriter)
    sa.Column("lease_generation", sa.Integer),  # schema 5: the lease it was opened under (null: vision run)
    sa.Index("ix_uptime_camera_time", "camera_id", "started_at"),
    sa.Index("uq_uptime_key", "interval_key", unique=True),
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
    sa.Column("worker_id", sa.String(128)),  # schema 3: the worker that reported it
)

workers_table = sa.Table(
    "workers",
    metadata,
    sa.Column("id", sa.String(128), primary_key=True),
    sa.Column("host", sa.String(255), nullable=False),
    sa.Column("pid", sa.Integer, nullable=False),
    sa.Column("version", sa.String(32), nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("started_at", sa.Float, nullable=False),  # database clock, epoch s
    sa.Column("heartbeat_at", sa.Float, nullable=False),  # database clock, epoch s
    sa.Column("state", sa.String(16), nullable=False),  # up | stopped
    sa.Column("cameras_held", sa.Integer, nullable=False),
    sa.Column("spool_records", sa.Integer, nullable=False),  # observations waiting in its spool
    sa.Column("observations", sa.Integer, nullable=False),  # finished by it since it started
)

camera_leases_table = sa.Table(
    "camera_leases",
    metadata,
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("worker_id", sa.String(128)),  # null: free
    sa.Column("acquired_at", sa.Float),  # database clock, epoch s
    sa.Column("expires_at", sa.Float, nullable=False),  # database clock, epoch s
    sa.Column("generation", sa.Integer, nullable=False, server_default="0"),  # schema 5: +1 on every claim
)
evidence_blobs_table = sa.Table(  # schema 5: evidence JPEGs kept in the store (evidence.storage: database)
    "evidence_blobs",
    metadata,
    sa.Column("path", sa.String(255), primary_key=True),  # <site>/<day>/<key>.crop.jpg, as in a folder
    sa.Column("obs_key", sa.String(64), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_evidence_blobs_created", "created_at"),
)
lease_grants_table = sa.Table(  # schema 5: every claim of a camera, for fencing late writes
    "lease_grants",
    metadata,
    sa.Column("camera_id", sa.String(64), primary_key=True),
    sa.Column("generation", sa.Integer, primary_key=True),
    sa.Column("worker_id", sa.String(128), nullable=False),
    sa.Column("granted_at", sa.Float, nullable=False),  # database clock, epoch s
)

alert_state_table = sa.Table(
    "alert_state",
    metadata,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("last_sent_at", sa.Float, nullable=False),  # wall clock, epoch s
    sa.Column("sent", sa.Integer, nullable=False),
)

evidence_table = sa.Table(
    "evidence",
    metadata,
    sa.Column("obs_key", sa.String(64), primary_key=True),
    sa.Column("crop_path", sa.Text, nullable=False),  # relative to evidence.folder
    sa.Column("snapshot_path", sa.Text, nullable=False),
    sa.Column("bytes", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),  # wall clock, epoch s
    sa.Column("deleted_at", sa.Float),  # the retention sweep removed the pixels (the counts stay)
    sa.Column("deleted_reason", sa.String(16)),  # age | size
)

audit_samples_table = sa.Table(
    "audit_samples",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("period", sa.String(64)),
    sa.Column("start", sa.Float, nullable=False),
    sa.Column("end", sa.Float, nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("seed", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
)

audit_items_table = sa.Table(
    "audit_items",
    metadata,
    sa.Column("sample_id", sa.Integer, primary_key=True),
    sa.Column("observation_id", sa.Integer, primary_key=True),
)

audit_marks_table = sa.Table(
    "audit_marks",
    metadata,
    sa.Column("observation_id", sa.Integer, primary_key=True),
    sa.Column("mark", sa.String(16), nullable=False),  # correct | wrong | unclear
    sa.Column("marked_at", sa.Float, nullable=False),
)


observation_rollups_table = sa.Table(  # schema 6: kept by the writer with the rows (vision/store/counts.py)
    "observation_rollups",
    metadata,
    sa.Column("hour", sa.Float, nullable=False),  # epoch s of the UTC hour the observations ended in
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("n", sa.Integer, nullable=False),
    sa.Column("shared", sa.Integer, nullable=False),  # of them, riders_on_vehicle >= 2
    sa.PrimaryKeyConstraint("hour", "site_id", "category", "camera_id", "outcome"),
)


def tally_column(kind: str, outcome: Outcome) -> str:
    """The column of a site-hour tally that holds ``kind`` (``n``: the count, ``shared``: how many of them were
    shared) for ``outcome``: ``n_compliant``, ``shared_non_rider``, ..."""
    return f"{kind}_{outcome.value}"


TALLY_COLUMNS = [tally_column(kind, outcome) for kind in ("n", "shared") for outcome in Outcome]


def _site_hour_tally(name: str) -> sa.Table:
    """Counts per UTC hour, site and category: one column per outcome, and how many of each were shared (what
    counts read). One row holds every outcome of its hour (schema 8): a city's 90-day series sums a third of the
    rows a row per outcome made, and reads them as the tallies rate points are built from."""
    return sa.Table(
        name,
        metadata,
        sa.Column("hour", sa.Float, nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        *(sa.Column(column, sa.Integer, nullable=False, server_default="0") for column in TALLY_COLUMNS),
        sa.PrimaryKeyConstraint("hour", "site_id", "category"),
    )


# schema 8 (schema 6's site_rollups, a row per outcome): observation_rollups per site, what every count of people
# reads; shared = heads that rode a two-wheeler with another head.
site_tallies_table = _site_hour_tally("site_tallies")

outcome_totals_table = sa.Table(  # schema 6: all-time counts per site, category and outcome (the scrape's)
    "outcome_totals",
    metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("category", sa.String(16), primary_key=True),
    sa.Column("outcome", sa.String(16), primary_key=True),
    sa.Column("n", sa.BigInteger, nullable=False),
)


trips_table = sa.Table(  # schema 7: one two-wheeler's trip and its riders' verdicts (vision/tracking/trip.py)
    "trips",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("run_id", sa.Integer, nullable=False),
    sa.Column("camera_id", sa.String(64), nullable=False),
    sa.Column("site_id", sa.String(64), nullable=False),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("vehicle_track_id", sa.Integer, nullable=False),  # its riders' observations name it too
    sa.Column("started_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float, nullable=False),
    sa.Column("riders", sa.Integer, nullable=False),  # >= 2: carrying passengers
    sa.Column("compliant", sa.Integer, nullable=False),
    sa.Column("non_compliant", sa.Integer, nullable=False),
    sa.Column("undetermined", sa.Integer, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),  # per vehicle: any rider non-compliant, or all compliant
    sa.Column("trip_key", sa.String(64), nullable=False),
    sa.Column("worker_id", sa.String(128)),
    sa.Column("lease_generation", sa.Integer),
    sa.Index("ix_trips_site_time", "site_id", "category", "ended_at"),
    sa.Index("ix_trips_time", "ended_at"),
    sa.Index("uq_trips_key", "trip_key", unique=True),
)

# schema 8 (schema 7's trip_rollups, a row per outcome): trips per UTC hour, site, category and per-vehicle
# outcome; shared = carrying passengers (riders >= 2).
trip_tallies_table = _site_hour_tally("trip_tallies")


def epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: the store needs zone-aware times")
    return moment.timestamp()


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def _dialect_insert(connection: Connection, table: sa.Table) -> postgresql.Insert | sqlite.Insert:
    """The INSERT of the connection's dialect, which has ``on_conflict_do_*`` (both spell them alike)."""
    return postgresql.insert(table) if connection.dialect.name == "postgresql" else sqlite.insert(table)


def _insert_new_keys(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], key: str) -> list[Any]:
    """INSERT rows whose ``key`` column is not in the table yet; returns the keys of those that were new.

    ``ON CONFLICT DO NOTHING`` on both dialects: the unique index on ``key`` decides, so two
    writers (or one replaying its spool) cannot store a row twice.
    """
    if not rows:
        return []
    statement = _dialect_insert(connection, table).on_conflict_do_nothing(index_elements=[key])
    return list(connection.execute(statement.values(list(rows)).returning(table.c[key])).scalars())


def _insert_new(connection: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], key: str) -> int:
    """:func:`_insert_new_keys`, counted."""
    return len(_insert_new_keys(connection, table, rows, key))


def _upsert(connection: Connection, table: sa.Table, row: dict[str, Any], key: str = "id") -> None:
    """INSERT ``row``, or UPDATE the row with its ``key``, in one statement.

    ``ON CONFLICT DO UPDATE`` is atomic against other writers: an UPDATE that finds no row and then
    an INSERT lets two writers insert the same key at once, and the second fails on the unique index.
    Only the columns in ``row`` are updated.
    """
    statement = _dialect_insert(connection, table).values(**row)
    changes = {column: statement.excluded[column] for column in row if column != key}
    connection.execute(statement.on_conflict_do_update(index_elements=[key], set_=changes))


def database_now(connection: Connection) -> float:
    """The database server's clock, epoch seconds: leases compare times of one clock, not each machine's."""
    if connection.dialect.name == "postgresql":
        query = "SELECT EXTRACT(EPOCH FROM clock_timestamp())"
    else:
        query = "SELECT (julianday('now') - 2440587.5) * 86400.0"
    return float(connection.execute(sa.text(query)).scalar_one())


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


# libpq's words (English: the client formats connection failures itself) for failures that a retry
# cannot fix. Everything else (refused, timed out, starting up, too many clients) is waited for.
