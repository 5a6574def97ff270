"""The store writer: the journal on a real disk, a real database, a database that is away, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from prometheus_client import CollectorRegistry

from vision.errors import VisionError
from vision.store import CameraReport, open_store
from vision.store.database import Store
from vision.store.writer import JOURNAL, OFFSET, StoreWriter
from vision.testing.observations import observations

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
UNREACHABLE = "postgresql+psycopg://vision@127.0.0.1:9/none?connect_timeout=1"  # port 9: discard, nothing listens


def unreachable_store() -> Store:
    return Store(sa.create_engine(UNREACHABLE))


@pytest.fixture
def store(store_url):
    store = open_store(store_url)
    yield store
    store.close()


def test_observations_status_and_uptime_reach_the_store_once(store, tmp_path):
    registry = CollectorRegistry()
    writer = StoreWriter(store, tmp_path / "spool", registry, worker_id="w1").start()
    run = store.start_run("demo.yaml", "test")
    batch = observations(30)
    writer.observations(run, batch[:10])
    key = writer.camera_up(run, "cam-a", T0)
    writer.camera_heartbeat(key, T0 + timedelta(seconds=20))
    writer.observations(run, batch[10:])
    writer.camera_status(
        "cam-a", CameraReport(state="up", fps=2.0, frames_read=5, frames_processed=5, frames_dropped=0, reconnects=0)
    )
    writer.camera_down(key, T0 + timedelta(seconds=40), "stream ended")
    assert writer.flush(10)
    rows = store.observations(limit=100)
    assert sorted(r.obs_key for r in rows) == sorted(o.key for o in batch)
    assert {r.worker_id for r in rows} == {"w1"}
    assert store.uptime_intervals(T0, T0 + timedelta(hours=1)) == [
        ("cam-a", T0.timestamp(), (T0 + timedelta(seconds=40)).timestamp())
    ]
    assert store.camera_statuses()["cam-a"].worker_id == "w1"
    assert registry.get_sample_value("vision_store_written_records_total", {"kind": "observation"}) == 30
    assert registry.get_sample_value("vision_store_backlog_records") == 0
    assert registry.get_sample_value("vision_store_spool_bytes") == 0  # emptied once everything is in
    writer.close()


def test_a_replayed_batch_is_not_stored_twice(store, tmp_path):
    spool = tmp_path / "spool"
    writer = StoreWriter(store, spool, worker_id="w1")
    run = store.start_run("demo.yaml", "test")
    writer.observations(run, observations(8))
    journal = (spool / JOURNAL).read_bytes()
    writer.close()  # no thread: close writes the batch itself
    assert store.count_observations() == 8
    # A crash between the COMMIT and moving the offset: the same lines are in the journal again.
    (spool / JOURNAL).write_bytes(journal)
    (spool / OFFSET).write_text("0")
    registry = CollectorRegistry()
    again = StoreWriter(store, spool, registry, worker_id="w1")
    assert again.backlog == 8
    again.close()
    assert store.count_observations() == 8
    assert registry.get_sample_value("vision_store_duplicate_records_skipped_total") == 8


def test_trips_are_journalled_and_a_replay_stores_them_once(store, tmp_path):
    from vision.compliance.rates import RateService
    from vision.tracking.trip import Trip

    spool = tmp_path / "spool"
    registry = CollectorRegistry()
    writer = StoreWriter(store, spool, registry, worker_id="w1")
    run = store.start_run("demo.yaml", "test")
    trips = [
        Trip("cam-a", "gate", "helmet", v, T0, T0 + timedelta(seconds=5 + v), 1 + v % 2, 1, v % 2, 0) for v in range(6)
    ]
    writer.trips(run, trips)
    journal = (spool / JOURNAL).read_bytes()
    writer.close()
    assert registry.get_sample_value("vision_store_written_records_total", {"kind": "trip"}) == 6
    (spool / JOURNAL).write_bytes(journal)  # a crash between the COMMIT and moving the offset
    (spool / OFFSET).write_text("0")
    StoreWriter(store, spool, worker_id="w1").close()
    (point,) = RateService(store).rates(T0, T0 + timedelta(hours=1), unit="vehicle")
    assert (point.compliant, point.non_compliant, point.passengers) == (3, 3, 3), "each trip once"


def test_while_the_database_is_away_the_spool_keeps_everything(store, tmp_path):
    spool = tmp_path / "spool"
    registry = CollectorRegistry()
    away = StoreWriter(unreachable_store(), spool, registry, worker_id="w1", flush_s=0.05, max_retry_s=0.2).start()
    batch = observations(25)
    for start in range(0, 25, 5):
        away.observations(1, batch[start : start + 5])
    away.camera_status(
        "cam-a", CameraReport(state="up", fps=1.0, frames_read=1, frames_processed=1, frames_dropped=0, reconnects=0)
    )
    assert not away.flush(1.5)
    assert registry.get_sample_value("vision_store_up") == 0
    assert registry.get_sample_value("vision_store_backlog_records") == 25
    assert registry.get_sample_value("vision_store_spool_bytes") > 0
    assert registry.get_sample_value("vision_store_write_failures_total") >= 1
    away.close(timeout_s=0.2)

    back = StoreWriter(store, spool, worker_id="w1")  # the worker restarted; the database is back
    assert back.backlog == 25
    back.close()
    assert sorted(r.obs_key for r in store.observations(limit=100)) == sorted(o.key for o in batch)


def test_the_journal_survives_kill_9(store, tmp_path):
    """A worker killed while the database is away loses nothing it had finished."""
    spool = tmp_path / "spool"
    child = textwrap.dedent(
        f"""
        import sys, time
        sys.path[:0] = [{str(Path(__file__).parent)!r}, {str(Path(__file__).parents[1])!r}]
        from vision.testing.observations import observations
        from test_writer import unreachable_store
        from vision.store.writer import StoreWriter
        writer = StoreWriter(unreachable_store(), {str(spool)!r}, worker_id="w1").start()
        batch = observations(12)
        writer.observations(1, batch)
        print(",".join(o.key for o in batch), flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE, text=True)
    keys = set(process.stdout.readline().strip().split(","))
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert len(keys) == 12
    writer = StoreWriter(store, spool, worker_id="w1")
    writer.close()
    assert {r.obs_key for r in store.observations(limit=100)} == keys


def test_one_writer_per_spool_folder(store, tmp_path):
    first = StoreWriter(store, tmp_path / "spool")
    with pytest.raises(VisionError, match="in use by another vision process"):
        StoreWriter(store, tmp_path / "spool")
    first.close()
    StoreWriter(store, tmp_path / "spool").close()  # free again


def test_an_unwritable_spool_folder_is_named(store, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(VisionError, match="spool folder"):
        StoreWriter(store, blocker / "spool")


def test_a_spool_of_another_store_is_refused(store, tmp_path):
    spool = tmp_path / "spool"
    away = StoreWriter(store, spool)
    away.observations(1, observations(3))
    away.close_files()  # stopped before writing (as if killed)
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    with pytest.raises(VisionError, match="holds 3 record\\(s\\) of another store"):
        StoreWriter(other, spool)
    other.close()
    StoreWriter(store, spool).close()  # its own store takes them
    assert store.count_observations() == 3


def test_no_record_blocks_the_spool(store, tmp_path):
    """A corrupt line, a record the schema refuses, one missing a field and one from a newer version go to
    the dead letters with their reasons; a version 1 record (the store's row format) is upgraded and written;
    everything else is written, and the pending status swapped out with the bad batch is not lost."""
    import json

    from vision.store.database import observation_row
    from vision.store.writer import DEAD_LETTER

    spool = tmp_path / "spool"
    run = store.start_run("demo.yaml", "test")
    good = observations(4)
    lines = [
        json.dumps({"t": "obs", "v": 2, "obs": observation_row(run, good[0], "w1")}),
        '{"t": "obs", "v": 2, "obs": {"camera_id": "cam-a"',  # cut off: not JSON
        json.dumps({"t": "obs", "row": observation_row(run, good[1], "w1")}),  # version 1
        json.dumps({"t": "obs", "v": 2, "obs": {**observation_row(run, good[2], "w1"), "outcome": None}}),
        json.dumps(
            {
                "t": "obs",
                "v": 2,
                "obs": {k: v for k, v in observation_row(run, good[3], "w1").items() if k != "ended_at"},
            }
        ),
        json.dumps({"t": "obs", "v": 99, "obs": {}}),
        json.dumps({"t": "up", "v": 2, "key": "k1", "run": run, "camera": "cam-a", "at": T0.timestamp()}),
        json.dumps({"t": "down", "key": "k1", "at": T0.timestamp() + 40, "reason": "ended"}),  # version 1
    ]
    spool.mkdir()
    (spool / JOURNAL).write_text("".join(line + "\n" for line in lines))
    registry = CollectorRegistry()
    writer = StoreWriter(store, spool, registry, worker_id="w1")
    writer.camera_status(
        "cam-a", CameraReport(state="up", fps=2.0, frames_read=5, frames_processed=5, frames_dropped=0, reconnects=0)
    )
    writer.close()
    assert sorted(r.obs_key for r in store.observations(limit=10)) == sorted([good[0].key, good[1].key])
    assert [camera for camera, _, _ in store.uptime_intervals(T0, T0 + timedelta(hours=1))] == ["cam-a"]
    assert store.camera_statuses()["cam-a"].worker_id == "w1", "the status of the bad batch was written too"
    dead = [json.loads(line) for line in (spool / DEAD_LETTER).read_text().splitlines()]
    reasons = " | ".join(entry["reason"] for entry in dead)
    assert len(dead) == 4, reasons
    assert "newer than this vision" in reasons and "lacks ended_at" in reasons and "IntegrityError" in reasons
    assert any("line" in entry["record"] for entry in dead), "the unreadable line is kept as text"
    assert registry.get_sample_value("vision_store_dead_letter_records_total") == 4
    assert (spool / JOURNAL).stat().st_size == 0, "the spool moved on: nothing left to retry"
    again = StoreWriter(store, spool, worker_id="w1")
    assert again.backlog == 0
    again.close()
