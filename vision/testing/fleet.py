"""A fleet of real ``vision worker`` processes on loopback cameras and one PostgreSQL (tests and the bench).

Cameras are :class:`~vision.testing.cameras.MjpegCamera` servers looping a real clip; each worker is its own
``python -m vision worker`` process with its own spool and HTTP port, so kill -9 is a real kill.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import yaml

from vision.store import open_store
from vision.store.database import Store
from vision.testing.cameras import MjpegCamera, free_port

ROOT = Path(__file__).resolve().parents[2]  # the repository (the tests' clip and the served model)
CLIP = ROOT / "tests" / "data" / "clips" / "helmet5.mp4"


@dataclass
class WorkerProcess:
    worker_id: str
    port: int
    process: subprocess.Popen
    log: Path
    killed: bool = False
    output: str = ""

    def readiness(self) -> dict | None:
        """The worker's own /readyz body (also when it answers 503), or None if it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            return json.loads(error.read())
        except OSError:
            return None


@dataclass
class Fleet:
    folder: Path
    store_url: str
    cameras: int = 10
    lease_ttl_s: float = 8.0
    capacity: int = 5
    detect_fps: float = 1.0
    servers: list[MjpegCamera] = field(default_factory=list)
    workers: dict[str, WorkerProcess] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for index in range(self.cameras):
            self.servers.append(MjpegCamera.from_clip(str(CLIP), fps=10.0, offset=13 * index).start())
        config = {
            "sites": [{"id": "gate", "name": "Gate"}, {"id": "junction", "name": "Junction"}],
            "cameras": [
                {
                    "id": f"cam-{index:02d}",
                    "site": "gate" if index % 2 else "junction",
                    "source": server.url,
                    "category": "helmet",
                    "model": str(ROOT / "models" / "helmet.yaml"),
                    "detect_fps": self.detect_fps,
                    "detection": {"mode": "whole"},
                }
                for index, server in enumerate(self.servers)
            ],
            "tracking": {"max_age_s": 1.5, "min_frames": 2},
            "store": {"url": self.store_url, "spool_dir": str(self.folder / "spool")},
            "workers": {"lease_ttl_s": self.lease_ttl_s, "capacity": self.capacity},
        }
        self.config_path = self.folder / "fleet.yaml"
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    @property
    def camera_ids(self) -> list[str]:
        return [f"cam-{index:02d}" for index in range(self.cameras)]

    def start_worker(self, worker_id: str) -> WorkerProcess:
        port = free_port()
        log = self.folder / f"{worker_id}.log"
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "vision",
                "worker",
                str(self.config_path),
                "--worker-id",
                worker_id,
                "--port",
                str(port),
                "--wait-for-store",
                "60",
            ],
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
            env=env,
            cwd=self.folder,
        )
        worker = WorkerProcess(worker_id, port, process, log)
        self.workers[worker_id] = worker
        return worker

    def kill(self, worker_id: str) -> None:
        worker = self.workers[worker_id]
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(10)
        worker.killed = True

    def stop(self, worker_id: str, timeout_s: float = 60.0) -> str:
        """SIGTERM, as systemd or Kubernetes stop it; returns what it printed (its own counts)."""
        worker = self.workers[worker_id]
        worker.process.send_signal(signal.SIGTERM)
        worker.output, _ = worker.process.communicate(timeout=timeout_s)
        return worker.output

    def live(self) -> list[WorkerProcess]:
        return [w for w in self.workers.values() if not w.killed and w.process.poll() is None]

    def holders(self, ignore: str | None = None) -> dict[str, list[str]]:
        """Camera -> the live workers that say (on /readyz) they hold it (but ``ignore``, a frozen one)."""
        held: dict[str, list[str]] = {camera: [] for camera in self.camera_ids}
        for worker in self.live():
            if worker.worker_id == ignore:
                continue
            body = worker.readiness()
            for camera in (body or {}).get("cameras_held", []):
                held.setdefault(camera, []).append(worker.worker_id)
        return held

    def wait_until_each_camera_has_one_holder(self, timeout_s: float, ignore: str | None = None) -> float:
        """Seconds until every camera is held by exactly one live worker (not ``ignore``); raises TimeoutError."""
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            if all(len(workers) == 1 for workers in self.holders(ignore).values()):
                return time.monotonic() - started
            time.sleep(0.25)
        raise TimeoutError(f"after {timeout_s:.0f} s: holders {self.holders()}")

    def store(self) -> Store:
        return open_store(self.store_url)

    def close(self) -> None:
        for worker in self.workers.values():
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait(10)
        for server in self.servers:
            server.stop()


def finished_count(output: str) -> tuple[int, int]:
    """``(finished, still spooled)`` from a worker's last line ('worker w1: run 3, 41 observation(s) finished, ...')."""
    line = output.strip().splitlines()[-1]
    finished = int(line.split(", ")[1].split()[0])
    spooled = int(line.split(", ")[2].split()[0])
    return finished, spooled


def overlapping_intervals(store: Store, tolerance_s: float = 1.0) -> list[str]:
    """Cameras that two runs (workers) watched at the same time, from the store's up-intervals."""
    from vision.store.schema import camera_uptime_table

    u = camera_uptime_table.c
    with store.engine.connect() as connection:
        rows = connection.execute(camera_uptime_table.select().order_by(u.camera_id, u.started_at)).all()
    problems = []
    for previous, current in itertools.pairwise(rows):
        if previous.camera_id != current.camera_id or previous.run_id == current.run_id:
            continue
        end = previous.ended_at if previous.ended_at is not None else previous.last_frame_at
        if current.started_at < end - tolerance_s:
            problems.append(f"{current.camera_id}: run {current.run_id} started {end - current.started_at:.1f} s early")
    return problems


def fault_scenario(fleet: Fleet, cluster, workers: int = 3, outage_s: float = 30.0, log=print) -> dict:
    """Start ``workers``, add one, kill -9 one, stop PostgreSQL for ``outage_s``, stop the rest; measure.

    Returns what the test asserts and the bench reports: holders after each step, takeover and
    rebalance times, moves per camera, each worker's own count against the store's rows, and
    duplicates.
    """
    result: dict = {"cameras": fleet.cameras, "workers": workers, "lease_ttl_s": fleet.lease_ttl_s}
    started = time.monotonic()
    for index in range(workers):
        fleet.start_worker(f"w{index}")
    result["start_s"] = fleet.wait_until_each_camera_has_one_holder(180)
    time.sleep(2 * fleet.lease_ttl_s / 5)  # a couple of rounds: a settled share
    result["held_after_start"] = _counts(fleet.holders())
    log(f"started {workers} workers in {time.monotonic() - started:.1f} s: {result['held_after_start']}")

    last = {camera: holders[0] for camera, holders in fleet.holders().items()}
    newcomer = f"w{workers}"
    fleet.start_worker(newcomer)
    moves = {camera: 0 for camera in fleet.camera_ids}
    joined = time.monotonic()
    share = -(-fleet.cameras // (workers + 1))
    rebalanced_at = None
    # Watch long enough for the newcomer to start, claim and settle, and for any flapping to show.
    while time.monotonic() - joined < 30 + 4 * fleet.lease_ttl_s:
        holders = fleet.holders()
        for camera, now in holders.items():
            if len(now) == 1 and now[0] != last[camera]:
                moves[camera] += 1
                last[camera] = now[0]
        counts = _counts(holders)
        if rebalanced_at is None and counts.get(newcomer, 0) >= fleet.cameras - workers * share:
            rebalanced_at = time.monotonic() - joined
        if rebalanced_at is not None and time.monotonic() - joined > rebalanced_at + 3 * fleet.lease_ttl_s:
            break
        time.sleep(0.25)
    fleet.wait_until_each_camera_has_one_holder(60)
    result["rebalance_s"] = rebalanced_at
    result["held_after_join"] = _counts(fleet.holders())
    result["moves_per_camera_max"] = max(moves.values())
    result["cameras_moved"] = sum(1 for n in moves.values() if n)
    log(f"worker {newcomer} joined: {result['held_after_join']}, {result['cameras_moved']} camera(s) moved once")

    victim = max(fleet.live(), key=lambda w: len((w.readiness() or {}).get("cameras_held", [])))
    fleet.kill(victim.worker_id)
    result["killed"] = victim.worker_id
    result["takeover_s"] = fleet.wait_until_each_camera_has_one_holder(60 + 2 * fleet.lease_ttl_s)
    result["held_after_kill"] = _counts(fleet.holders())
    log(f"kill -9 {victim.worker_id}: cameras back in {result['takeover_s']:.1f} s: {result['held_after_kill']}")

    cluster.stop()
    time.sleep(outage_s)
    spooled = sum((w.readiness() or {}).get("spool_records", 0) for w in fleet.live())
    cluster.start()
    back = time.monotonic()
    while any((w.readiness() or {}).get("spool_records", 1) for w in fleet.live()) and time.monotonic() - back < 120:
        time.sleep(0.25)
    result["spooled_during_outage"] = spooled
    result["spool_replay_s"] = time.monotonic() - back
    result["after_outage_s"] = fleet.wait_until_each_camera_has_one_holder(60 + 2 * fleet.lease_ttl_s)
    result["held_after_outage"] = _counts(fleet.holders())
    log(
        f"PostgreSQL away {outage_s:.0f} s: {spooled} record(s) spooled, written {result['spool_replay_s']:.1f} s after"
    )

    frozen = max(fleet.live(), key=lambda w: len((w.readiness() or {}).get("cameras_held", [])))
    frozen_cameras = list((frozen.readiness() or {}).get("cameras_held", []))
    freeze_started = datetime.now(UTC)
    os.kill(frozen.process.pid, signal.SIGSTOP)  # a VM pause, a long GC, a partition
    time.sleep(2 * fleet.lease_ttl_s)
    result["takeover_while_frozen_s"] = fleet.wait_until_each_camera_has_one_holder(
        60 + 2 * fleet.lease_ttl_s, ignore=frozen.worker_id
    )
    os.kill(frozen.process.pid, signal.SIGCONT)
    result["frozen"] = frozen.worker_id
    time.sleep(fleet.lease_ttl_s)  # it resumes, finds its leases gone and must not count them
    log(f"SIGSTOP {frozen.worker_id} for {2 * fleet.lease_ttl_s:.0f} s: {len(frozen_cameras)} camera(s) taken over")

    time.sleep(2)
    own: dict[str, int] = {}
    left: dict[str, int] = {}
    for worker in list(fleet.live()):
        own[worker.worker_id], left[worker.worker_id] = finished_count(fleet.stop(worker.worker_id))
    store = fleet.store()
    try:
        # The killed worker's spool, as its restart would find it: whatever it had not written yet.
        from vision.store.writer import StoreWriter

        replay = StoreWriter(store, fleet.folder / "spool" / victim.worker_id, worker_id=victim.worker_id)
        result["killed_worker_spool_replayed"] = replay.backlog
        replay.close()
        by_worker = _rows_by_worker(store)
        result["own_counts"] = own
        result["store_rows"] = by_worker
        result["lost"] = sum(max(0, own[w] - by_worker.get(w, 0)) for w in own) + sum(left.values())
        result["extra"] = sum(max(0, by_worker.get(w, 0) - own[w]) for w in own)
        result["duplicated"] = _duplicates(store)
        result["killed_worker_rows"] = by_worker.get(victim.worker_id, 0)
        result["overlaps"] = overlapping_intervals(store)
        result["frozen_rows_after_freeze"] = _rows_after(store, frozen.worker_id, frozen_cameras, freeze_started)
        result["leases_after_stop"] = [lease.camera_id for lease in store.leases() if lease.worker_id is not None]
    finally:
        store.close()
    log(
        f"own counts {own}, store rows {result['store_rows']}, lost {result['lost']}, duplicated {result['duplicated']}"
    )
    return result


def _rows_after(store: Store, worker_id: str, cameras: list[str], after: datetime) -> int:
    """Observations of ``worker_id`` for ``cameras`` that ended after ``after`` under a lease it was
    granted before ``after`` (or under none): a frozen worker that lost them while stopped must
    count none of them once it runs again. Rows under a lease it claimed again later are its own."""
    import sqlalchemy as sa

    from vision.store.schema import lease_grants_table, observations_table

    o, g = observations_table.c, lease_grants_table.c
    granted = (
        sa.select(g.granted_at).where(g.camera_id == o.camera_id, g.generation == o.lease_generation).scalar_subquery()
    )
    query = sa.select(sa.func.count()).where(
        o.worker_id == worker_id,
        o.camera_id.in_(cameras),
        o.ended_at > after.timestamp() + 1.0,
        sa.or_(o.lease_generation.is_(None), granted < after.timestamp()),
    )
    with store.engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _counts(holders: dict[str, list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for workers in holders.values():
        for worker in workers:
            counts[worker] = counts.get(worker, 0) + 1
    return dict(sorted(counts.items()))


def _rows_by_worker(store: Store) -> dict[str, int]:
    import sqlalchemy as sa

    from vision.store.schema import observations_table

    o = observations_table.c
    with store.engine.connect() as connection:
        rows = connection.execute(sa.select(o.worker_id, sa.func.count()).group_by(o.worker_id)).all()
    return {str(worker): cast(int, count) for worker, count in rows}


def _duplicates(store: Store) -> int:
    """Observations stored twice: same key, or the same camera, run and track (keys are unique by index)."""
    import sqlalchemy as sa

    from vision.store.schema import observations_table

    o = observations_table.c
    with store.engine.connect() as connection:
        same_track = connection.execute(
            sa.select(sa.func.count()).select_from(
                sa.select(o.camera_id, o.run_id, o.track_id)
                .group_by(o.camera_id, o.run_id, o.track_id)
                .having(sa.func.count() > 1)
                .subquery()
            )
        ).scalar_one()
    return int(same_track)
