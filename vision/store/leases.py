"""Workers and camera leases: the rows many ``vision worker`` processes share a city's cameras through.

A worker announces itself (:meth:`Leases.register_worker`), and each round (:meth:`Leases.lease_round`)
renews what it holds, claims free or expired cameras up to its fair share, and learns what to give up;
each lease carries a generation, the fencing token its writes for that camera carry (:meth:`Leases.stale`
refuses the writes of a lease since taken over). Part of :class:`vision.store.database.Store`, which
mixes it in: every method takes its own connection (``_begin``), or the writer's (the static ones).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from vision.store.schema import (
    _insert_new,
    _upsert,
    camera_leases_table,
    database_now,
    lease_grants_table,
    workers_table,
)


@dataclass(frozen=True)
class WorkerRow:
    """A worker's latest heartbeat; ``heartbeat_age_s`` is measured on the database's clock."""

    id: str
    host: str
    pid: int
    version: str
    capacity: int
    started_at: float
    heartbeat_at: float
    state: str
    cameras_held: int
    spool_records: int
    observations: int
    heartbeat_age_s: float


@dataclass(frozen=True)
class LeaseRow:
    """Who holds a camera; ``worker_id`` None or ``expires_in_s`` <= 0 means it is free to claim."""

    camera_id: str
    worker_id: str | None
    expires_in_s: float


@dataclass(frozen=True)
class LeaseRound:
    """What one :meth:`Store.lease_round` found and did, for one worker.

    ``held``: cameras this worker holds after the round (renewed or newly claimed); ``acquired``:
    the ones claimed in this round; ``excess``: held cameras beyond its fair share, to stop and
    then :meth:`Store.release_leases`; ``share``: how many it should hold; ``live_workers``:
    workers whose heartbeat is younger than the lease; ``generations``: each held camera's lease
    generation, the fencing token the worker's writes for it carry.
    """

    held: frozenset[str]
    acquired: frozenset[str]
    excess: tuple[str, ...]
    share: int
    live_workers: int
    generations: dict[str, int] = field(default_factory=dict)


class Leases:
    """The store's worker and lease rows (mixed into :class:`~vision.store.database.Store`)."""

    def _begin(self) -> AbstractContextManager[Connection]:  # the Store's: one transaction per call
        raise NotImplementedError

    def register_worker(self, worker_id: str, host: str, pid: int, capacity: int, version: str) -> None:
        """Announce (or re-announce after a restart) a worker: state ``up``, heartbeat now."""
        with self._begin() as connection:
            now = database_now(connection)
            values = {
                "host": host,
                "pid": pid,
                "capacity": capacity,
                "version": version,
                "started_at": now,
                "heartbeat_at": now,
                "state": "up",
                "cameras_held": 0,
                "spool_records": 0,
                "observations": 0,
            }
            _upsert(connection, workers_table, {"id": worker_id, **values})

    def lease_round(
        self,
        worker_id: str,
        camera_ids: Collection[str],
        capacity: int,
        lease_s: float,
        *,
        claim: bool,
        spool_records: int = 0,
        observations: int = 0,
    ) -> LeaseRound:
        """One heartbeat of a worker, in one transaction on the database's clock.

        Renews every lease the worker holds (also ones from before its restart), computes its fair
        share ``min(capacity, ceil(cameras / live workers))``, and, if ``claim``, takes free or
        expired leases up to that share (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so workers
        claiming at once never wait on each other or take the same camera; the conditional UPDATE
        makes it safe on SQLite too). Leases beyond the share are returned as ``excess``, not
        dropped: the worker stops those cameras first, then releases them, so two workers never
        count one camera at once.
        """
        cameras = sorted(set(camera_ids))
        lease, w = camera_leases_table.c, workers_table.c
        with self._begin() as connection:
            now = database_now(connection)
            _insert_new(
                connection,
                camera_leases_table,
                [{"camera_id": c, "worker_id": None, "acquired_at": None, "expires_at": 0.0} for c in cameras],
                "camera_id",
            )
            generations = {
                row.camera_id: row.generation
                for row in connection.execute(
                    sa.update(camera_leases_table)
                    .where(lease.worker_id == worker_id, lease.camera_id.in_(cameras))
                    .values(expires_at=now + lease_s)
                    .returning(lease.camera_id, lease.generation)
                )
            }
            held = set(generations)
            connection.execute(sa.update(workers_table).where(w.id == worker_id).values(heartbeat_at=now, state="up"))
            live = int(
                connection.execute(
                    sa.select(sa.func.count()).where(w.state == "up", w.heartbeat_at > now - lease_s)
                ).scalar_one()
            )
            share = min(capacity, math.ceil(len(cameras) / max(live, 1)))
            acquired: set[str] = set()
            if claim and len(held) < share:
                free = (lease.worker_id.is_(None)) | (lease.expires_at <= now)
                candidates = [
                    row.camera_id
                    for row in connection.execute(
                        sa.select(lease.camera_id)
                        .where(lease.camera_id.in_(cameras), free)
                        .order_by(lease.camera_id)
                        .limit(share - len(held))
                        .with_for_update(skip_locked=True)
                    )
                ]
                if candidates:
                    claimed = {
                        row.camera_id: row.generation
                        for row in connection.execute(
                            sa.update(camera_leases_table)
                            .where(lease.camera_id.in_(candidates), free)
                            .values(
                                worker_id=worker_id,
                                acquired_at=now,
                                expires_at=now + lease_s,
                                generation=lease.generation + 1,
                            )
                            .returning(lease.camera_id, lease.generation)
                        )
                    }
                    if claimed:
                        grants = [
                            {"camera_id": c, "generation": g, "worker_id": worker_id, "granted_at": now}
                            for c, g in claimed.items()
                        ]
                        connection.execute(sa.insert(lease_grants_table), grants)
                    acquired = set(claimed)
                    generations.update(claimed)
            held |= acquired
            excess = tuple(sorted(held - acquired, reverse=True)[: max(0, len(held) - share)])
            connection.execute(
                sa.update(workers_table)
                .where(w.id == worker_id)
                .values(cameras_held=len(held), spool_records=spool_records, observations=observations)
            )
        return LeaseRound(frozenset(held), frozenset(acquired), excess, share, live, generations)

    @staticmethod
    def stale(connection: Connection, writes: Sequence[tuple[str, int | None, float]]) -> list[bool]:
        """For ``(camera_id, lease_generation, at)`` writes: True where a later claim of the camera was
        granted at or before ``at`` (epoch s), so the write comes from a worker that no longer held it.
        A write without a generation (``vision run``) is never stale."""
        cameras = sorted({camera for camera, generation, _ in writes if generation is not None})
        if not cameras:
            return [False] * len(writes)
        g = lease_grants_table.c
        grants: dict[str, list[tuple[int, float]]] = {}
        for row in connection.execute(
            sa.select(g.camera_id, g.generation, g.granted_at).where(g.camera_id.in_(cameras))
        ):
            grants.setdefault(row.camera_id, []).append((row.generation, row.granted_at))
        return [
            generation is not None
            and any(later > generation and granted <= at for later, granted in grants.get(camera, ()))
            for camera, generation, at in writes
        ]

    @staticmethod
    def lease_holders(connection: Connection, camera_ids: Collection[str]) -> dict[str, str | None]:
        """Camera -> the worker holding its lease now (None: free), for cameras that have a lease row."""
        lease = camera_leases_table.c
        rows = connection.execute(
            sa.select(lease.camera_id, lease.worker_id).where(lease.camera_id.in_(sorted(camera_ids)))
        )
        return {row.camera_id: row.worker_id for row in rows}

    def release_leases(self, worker_id: str, camera_ids: Collection[str]) -> None:
        """Give cameras back (free at once), after their tracks were closed and written."""
        lease = camera_leases_table.c
        with self._begin() as connection:
            connection.execute(
                sa.update(camera_leases_table)
                .where(lease.worker_id == worker_id, lease.camera_id.in_(sorted(camera_ids)))
                .values(worker_id=None, expires_at=0.0)
            )

    def worker_stopped(self, worker_id: str, observations: int = 0, spool_records: int = 0) -> None:
        """A worker that shut down cleanly: its leases are free now, not after they expire."""
        with self._begin() as connection:
            connection.execute(
                sa.update(camera_leases_table)
                .where(camera_leases_table.c.worker_id == worker_id)
                .values(worker_id=None, expires_at=0.0)
            )
            connection.execute(
                sa.update(workers_table)
                .where(workers_table.c.id == worker_id)
                .values(state="stopped", cameras_held=0, observations=observations, spool_records=spool_records)
            )

    def workers(self) -> list[WorkerRow]:
        with self._begin() as connection:
            now = database_now(connection)
            rows = connection.execute(sa.select(workers_table).order_by(workers_table.c.id))
            return [WorkerRow(**row._mapping, heartbeat_age_s=max(0.0, now - row.heartbeat_at)) for row in rows]

    def leases(self) -> list[LeaseRow]:
        with self._begin() as connection:
            now = database_now(connection)
            rows = connection.execute(sa.select(camera_leases_table).order_by(camera_leases_table.c.camera_id))
            return [LeaseRow(row.camera_id, row.worker_id, row.expires_at - now) for row in rows]
