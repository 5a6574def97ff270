"""Counting observations: hourly rollups kept by the writer, and the one count query that reads them.

Every rate, series, report and ``/metrics`` scrape is a count of observations per site, category,
local bucket and outcome. A city's year is tens of millions of rows, so the writer keeps rollups
in the **same transaction** as the rows it inserts (:func:`add`, exactly once: only rows
that were new are counted, so a retried write or a spool replay adds nothing):

- ``observation_rollups``: per UTC hour, site, category, camera and outcome, the count and how many
  rode a shared two-wheeler;
- ``site_tallies``: the same without the camera, what the counts read, one row per UTC hour, site
  and category with a column per outcome (``n_compliant``, ``shared_compliant``, ...: the tally a
  rate point is built from). At 300 cameras over 62 sites a 90-day daily series of every site sums
  0.13 million rows, where a row per camera was 1.9 million and a row per outcome 0.4 million;
- ``outcome_totals``: per site, category and outcome, all time (the scrape's counters);
- ``trip_tallies``: trips (two-wheelers that carried riders) per UTC hour, site and category, a column
  per per-vehicle outcome and how many carried two or more riders: what per-vehicle rates read.

:func:`count_rows` answers from the rollups whenever an hour is the finest thing the question asks
about (buckets of whole hours or days, zones whose offsets are whole hours, daily periods starting
and ending on the hour), and from the raw rows for the part of the range that is not whole hours
(the edges of a rolling window) and for everything else (a run, a half-hour zone, minutes). Raw
rows stay the source of truth: :func:`rebuild` recounts every rollup from them (``vision
rebuild-rollups``), and the tests compare the two on both dialects, after a spool replay too.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vision.outcome import Outcome
from vision.store.schema import (
    TALLY_COLUMNS,
    FloorDiv,
    _dialect_insert,
    _number,
    observation_rollups_table,
    observations_table,
    outcome_totals_table,
    site_tallies_table,
    tally_column,
    trip_tallies_table,
    trips_table,
)

HOUR = 3600
TALLY_KEYS = ["hour", "site_id", "category"]  # a site-hour tally's key, then its TALLY_COLUMNS


@dataclass(frozen=True)
class Unit:
    """What is counted: its raw rows, the site-hour tallies that sum them, and what makes one "shared"."""

    name: str
    raw: sa.Table
    rollup: sa.Table
    shared_column: str  # a row is shared when this column is >= 2

    def shared(self, row: dict[str, Any]) -> int:
        """1 when the raw ``row`` (a dict) is shared, else 0."""
        return int((row.get(self.shared_column) or 0) >= 2)

    def shared_flag(self, columns: Any) -> sa.ColumnElement[Any]:
        """The same in SQL, over the raw table's ``columns``."""
        return sa.case((columns[self.shared_column] >= 2, 1), else_=0)


# People: one observation per head or face; shared = rode a two-wheeler with another head.
PERSONS = Unit("person", observations_table, site_tallies_table, "riders_on_vehicle")
# Vehicles: one trip per two-wheeler that carried riders; shared = carried passengers.
TRIPS = Unit("trip", trips_table, trip_tallies_table, "riders")
UNITS = {unit.name: unit for unit in (PERSONS, TRIPS)}


class CountRow(NamedTuple):
    """Observations of one site, category, local bucket, UTC offset and outcome (a named tuple, not a frozen
    dataclass: a city's 90-day daily series makes 17 k of them per request, and building frozen dataclasses
    cost as much as the query).

    ``bucket`` is ``floor((ended_at + utc_offset_s - daily_start_s) / bucket_seconds)`` (0 for one
    whole-range bucket): with the offset of the site's zone at ``ended_at``, bucket ``k`` of a day
    bucket is the local day ``k`` days after 1970-01-01. ``utc_offset_s`` tells apart two real
    hours that a clock shows alike when daylight saving ends. ``shared_vehicle`` is how many of
    those ``n`` observations had ``riders_on_vehicle >= 2`` (a head that shared its
    two-wheeler with another head).
    """

    site_id: str
    category: str
    bucket: int
    utc_offset_s: int
    outcome: Outcome
    n: int
    shared_vehicle: int


@dataclass(frozen=True)
class CountQuery:
    """What :func:`count_rows` counts (see :meth:`vision.store.database.Store.counts`)."""

    start: float  # epoch s, inclusive
    end: float  # epoch s, exclusive
    bucket_seconds: int | None
    category: str | None = None
    run_id: int | None = None
    site_ids: Collection[str] | None = None
    exclude_site_ids: Collection[str] = ()
    utc_offsets: Sequence[tuple[float, float, int]] = ()
    daily: tuple[int, int] | None = None
    unit: str = PERSONS.name  # "person" (observations) or "trip" (per vehicle)

    def hourly(self) -> bool:
        """Whether every observation of one UTC hour lands in one bucket: then rollups can answer."""
        whole = [self.bucket_seconds or HOUR, *(self.daily or ())]
        whole += [offset for _, _, offset in self.utc_offsets]
        whole += [to for _, to, _ in self.utc_offsets[:-1]]  # where the zone's offset changes
        return self.run_id is None and all(value % HOUR == 0 for value in whole)


def _hour(row: dict[str, Any]) -> float:
    return math.floor(row["ended_at"] / HOUR) * HOUR


def _site_hours(rows: Sequence[dict[str, Any]], unit: Unit) -> list[dict[str, Any]]:
    """Site-hour tally increments of inserted rows (observations or trips; keys sorted: one lock order)."""
    by_site: dict[tuple[float, str, str], dict[str, Any]] = {}
    for row in rows:
        key = (_hour(row), row["site_id"], row["category"])
        tally = by_site.get(key)
        if tally is None:
            tally = by_site[key] = {"hour": key[0], "site_id": key[1], "category": key[2]}
            tally.update(dict.fromkeys(TALLY_COLUMNS, 0))
        outcome = Outcome(row["outcome"])
        tally[tally_column("n", outcome)] += 1
        tally[tally_column("shared", outcome)] += unit.shared(row)
    return [by_site[key] for key in sorted(by_site)]


def _pivoted(columns: Any, n: sa.ColumnElement[Any], shared: sa.ColumnElement[Any]) -> list[sa.ColumnElement[Any]]:
    """``n`` and ``shared`` summed into one column per outcome (the tallies' columns, in their order)."""
    return [
        sa.func.coalesce(sa.func.sum(sa.case((columns.outcome == outcome.value, value), else_=0)), 0)
        for value in (n, shared)
        for outcome in Outcome
    ]


def _increments(
    rows: Sequence[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The camera-hour, site-hour and total increments of inserted observation rows (keys sorted: one lock order)."""
    hourly: dict[tuple[float, str, str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[tuple[str, str, str], int] = defaultdict(int)
    for row in rows:
        counts = hourly[(_hour(row), row["site_id"], row["category"], row["camera_id"], row["outcome"])]
        counts[0] += 1
        counts[1] += PERSONS.shared(row)
        totals[(row["site_id"], row["category"], row["outcome"])] += 1
    rollups = [
        {
            "hour": hour,
            "site_id": site,
            "category": category,
            "camera_id": camera,
            "outcome": outcome,
            "n": n,
            "shared": s,
        }
        for (hour, site, category, camera, outcome), (n, s) in sorted(hourly.items())
    ]
    total_rows = [
        {"site_id": site, "category": category, "outcome": outcome, "n": n}
        for (site, category, outcome), n in sorted(totals.items())
    ]
    return rollups, _site_hours(rows, PERSONS), total_rows


def _add_to(connection: Connection, table: sa.Table, rows: list[dict[str, Any]], counters: Sequence[str]) -> None:
    if not rows:
        return
    statement = _dialect_insert(connection, table).values(rows)
    keys = [column.name for column in table.primary_key.columns]
    increments = {name: table.c[name] + statement.excluded[name] for name in counters}
    connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=increments))


def add(connection: Connection, inserted: Sequence[dict[str, Any]]) -> None:
    """Count observation rows the caller has just inserted, in its transaction."""
    rollups, sites, totals = _increments(inserted)
    _add_to(connection, observation_rollups_table, rollups, ("n", "shared"))
    _add_to(connection, site_tallies_table, sites, TALLY_COLUMNS)
    _add_to(connection, outcome_totals_table, totals, ("n",))


def add_trips(connection: Connection, inserted: Sequence[dict[str, Any]]) -> None:
    """Count trip rows the caller has just inserted, in its transaction."""
    _add_to(connection, trip_tallies_table, _site_hours(inserted, TRIPS), TALLY_COLUMNS)


def rebuild(connection: Connection) -> int:
    """Recount every rollup from the raw rows (in the caller's transaction); returns the camera-hour rows written."""
    written = rebuild_observation_rollups(connection)
    rebuild_trip_rollups(connection)
    return written


def rebuild_trip_rollups(connection: Connection) -> None:
    """Recount ``trip_tallies`` from the trips (schema 8 on)."""
    t = trips_table.c
    hour = FloorDiv(t.ended_at, _number(HOUR)) * _number(HOUR)
    trips = sa.select(hour, t.site_id, t.category, *_pivoted(t, sa.literal_column("1"), TRIPS.shared_flag(t))).group_by(
        hour, t.site_id, t.category
    )
    connection.execute(sa.delete(trip_tallies_table))
    connection.execute(sa.insert(trip_tallies_table).from_select(TALLY_KEYS + TALLY_COLUMNS, trips))


def rebuild_observation_rollups(connection: Connection) -> int:
    """Recount the observations' rollups (schema 8 on); returns the camera-hour rows."""
    o = observations_table.c
    hour = FloorDiv(o.ended_at, _number(HOUR)) * _number(HOUR)
    shared = sa.func.sum(PERSONS.shared_flag(o))
    connection.execute(sa.delete(observation_rollups_table))
    connection.execute(sa.delete(site_tallies_table))
    connection.execute(sa.delete(outcome_totals_table))
    hourly = sa.select(hour, o.site_id, o.category, o.camera_id, o.outcome, sa.func.count(), shared).group_by(
        hour, o.site_id, o.category, o.camera_id, o.outcome
    )
    columns = ["hour", "site_id", "category", "camera_id", "outcome", "n", "shared"]
    connection.execute(sa.insert(observation_rollups_table).from_select(columns, hourly))
    fill_site_tallies(connection)
    totals = sa.select(o.site_id, o.category, o.outcome, sa.func.count()).group_by(o.site_id, o.category, o.outcome)
    connection.execute(sa.insert(outcome_totals_table).from_select(["site_id", "category", "outcome", "n"], totals))
    # rowcount of INSERT ... SELECT is -1 on SQLite: count what is there.
    return int(connection.execute(sa.select(sa.func.count()).select_from(observation_rollups_table)).scalar_one())


def fill_site_tallies(connection: Connection) -> None:
    """Sum ``observation_rollups`` into ``site_tallies`` (empty before: a rebuild, or migration 0008)."""
    r = observation_rollups_table.c
    by_site = sa.select(r.hour, r.site_id, r.category, *_pivoted(r, r.n, r.shared)).group_by(
        r.hour, r.site_id, r.category
    )
    connection.execute(sa.insert(site_tallies_table).from_select(TALLY_KEYS + TALLY_COLUMNS, by_site))


def _select(query: CountQuery, source: sa.Table, start: float, end: float) -> sa.Select[Any]:
    """The count query over ``[start, end)`` of the unit's raw rows or of its rollups (whole hours)."""
    unit = UNITS[query.unit]
    raw = source is unit.raw
    c = source.c
    time = c.ended_at if raw else c.hour
    offsets = query.utc_offsets
    offset: sa.ColumnElement[Any]
    if len(offsets) > 1:
        offset = sa.case(
            *[(time < _number(to), _number(off)) for _, to, off in offsets[:-1]], else_=_number(offsets[-1][2])
        )
    else:
        offset = _number(offsets[0][2] if offsets else 0)
    daily_start, daily_length = query.daily if query.daily is not None else (0, 86400)
    local = time + offset - _number(daily_start)
    group: list[sa.ColumnElement[Any]]
    if query.bucket_seconds is None:
        bucket: sa.ColumnElement[Any] = sa.literal_column("0")
        offset_column: sa.ColumnElement[Any] = sa.literal_column("0")
        group = []
    else:
        bucket = FloorDiv(local, _number(query.bucket_seconds))
        offset_column = offset
        # A constant in GROUP BY would read as a column position: group by the offset only when it varies.
        group = [offset, bucket] if len(offsets) > 1 else [bucket]
    if raw:  # pivoted here as the tallies are: a row per site, category and bucket, a column per outcome
        values = _pivoted(c, sa.literal_column("1"), unit.shared_flag(c))
    else:
        values = [sa.func.sum(c[column]) for column in TALLY_COLUMNS]
    statement = (
        sa.select(c.site_id, c.category, bucket.label("bucket"), offset_column.label("utc_offset"), *values)
        .where(time >= _number(start), time < _number(end))
        .group_by(c.site_id, c.category, *group)
    )
    if query.daily is not None:
        statement = statement.where(local - FloorDiv(local, _number(86400)) * _number(86400) < _number(daily_length))
    if query.site_ids is not None:
        statement = statement.where(c.site_id.in_(sorted(query.site_ids)))
    if query.exclude_site_ids:
        statement = statement.where(c.site_id.not_in(sorted(query.exclude_site_ids)))
    if query.category is not None:
        statement = statement.where(c.category == query.category)
    if query.run_id is not None:
        statement = statement.where(c.run_id == query.run_id)
    return statement


# Where an outcome's count sits in a tally (its shared count sits len(Outcome) places further on), as in
# TALLY_COLUMNS.
OUTCOME_SLOTS = {outcome.value: slot for slot, outcome in enumerate(Outcome)}
TallyKey = tuple[str, str, int, int]  # site, category, bucket, UTC offset (as in CountRow)


def tally_rows(connection: Connection, query: CountQuery, rollups: bool = True) -> dict[TallyKey, list[int]]:
    """Counts for ``query`` as one tally per site, category, bucket and offset: ``n`` of each outcome in
    :class:`Outcome` order, then how many of them were shared, in the same order (rate points read these;
    :func:`count_rows` is the same counts a row per outcome). Whole hours come from the rollups when
    :meth:`CountQuery.hourly`, the rest from raw rows (all of it from raw rows with ``rollups=False``: the
    truth the tests compare with)."""
    unit = UNITS[query.unit]
    parts: list[tuple[sa.Table, float, float]] = [(unit.raw, query.start, query.end)]
    if rollups and query.hourly():
        first, last = math.ceil(query.start / HOUR) * HOUR, math.floor(query.end / HOUR) * HOUR
        if first < last:
            parts = [(unit.raw, query.start, first), (unit.rollup, first, last), (unit.raw, last, query.end)]
    tallies: dict[TallyKey, list[int]] = {}
    for source, start, end in parts:
        if start >= end:
            continue
        # All rows at once, as plain tuples: a 90-day daily series of a city is 5.6 k rows, and fetching them
        # one by one, by column name, took longer than the query.
        rows: Sequence[tuple[Any, ...]] = connection.execute(_select(query, source, start, end)).fetchall()
        for site, category, bucket, offset, *values in rows:
            key = (site, category, int(bucket), int(offset))
            tally = tallies.get(key)
            if tally is None:
                tallies[key] = [int(value or 0) for value in values]
            else:  # the same bucket from another part (raw rows at the edges of an hour)
                for slot, value in enumerate(values):
                    tally[slot] += int(value or 0)
    return tallies


def count_rows(connection: Connection, query: CountQuery, rollups: bool = True) -> list[CountRow]:
    """:func:`tally_rows` as a row per outcome that occurred, in order of site, category, bucket, offset and outcome."""
    size = len(OUTCOME_SLOTS)
    rows = [
        CountRow(site, category, bucket, offset, outcome, tally[slot], tally[size + slot])
        for (site, category, bucket, offset), tally in tally_rows(connection, query, rollups).items()
        for outcome, slot in zip(Outcome, range(size), strict=True)
        if tally[slot]
    ]
    return sorted(rows, key=lambda row: (row.site_id, row.category, row.bucket, row.utc_offset_s, row.outcome.value))


def outcome_totals(connection: Connection) -> list[tuple[str, str, str, int]]:
    """All-time ``(site_id, category, outcome, count)`` from the totals rollup (a handful of rows)."""
    t = outcome_totals_table.c
    query = sa.select(t.site_id, t.category, t.outcome, t.n).order_by(t.site_id, t.category, t.outcome)
    return [(row.site_id, row.category, row.outcome, int(row.n)) for row in connection.execute(query)]
