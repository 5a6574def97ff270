"""The lease protocol in the store (both databases), and how serving reports workers (API, /metrics)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from api_support import make_config
from vision.api import create_app
from vision.store import CameraReport, open_store
from vision.store.schema import workers_table

CAMERAS = [f"cam-{i}" for i in range(10)]


def test_fair_shares_claims_and_expiry(store_url):
    store = open_store(store_url)
    for worker in ("a", "b", "c"):
        store.register_worker(worker, "host", 1, capacity=5, version="test")
    a = store.lease_round("a", CAMERAS, 5, lease_s=30, claim=True)
    b = store.lease_round("b", CAMERAS, 5, lease_s=30, claim=True)
    c = store.lease_round("c", CAMERAS, 5, lease_s=30, claim=True)
    assert (len(a.held), len(b.held), len(c.held)) == (4, 4, 2)  # ceil(10 / 3) each while cameras last
    assert a.held.isdisjoint(b.held) and (a.held | b.held | c.held) == set(CAMERAS)
    again = store.lease_round("a", CAMERAS, 5, lease_s=30, claim=True)
    assert again.held == a.held and not again.acquired and again.excess == ()  # stable: nothing moves

    store.register_worker("d", "host", 1, capacity=5, version="test")
    a2 = store.lease_round("a", CAMERAS, 5, lease_s=30, claim=True)
    assert a2.share == 3 and len(a2.excess) == 1  # stops one first; it is still held until released
    store.release_leases("a", a2.excess)
    d = store.lease_round("d", CAMERAS, 5, lease_s=30, claim=True)
    assert d.held == frozenset(a2.excess)

    # "b" dies: its leases and heartbeat age past the lease (moved back in time, as if 60 s passed).
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE camera_leases SET expires_at = expires_at - 60 WHERE worker_id = 'b'"))
        connection.execute(sa.update(workers_table).where(workers_table.c.id == "b").values(heartbeat_at=0))
    c2 = store.lease_round("c", CAMERAS, 5, lease_s=30, claim=True)
    assert c2.live_workers == 3 and c2.share == 4 and len(c2.acquired) == 2 and c2.acquired <= b.held
    assert store.lease_round("b", CAMERAS, 5, lease_s=30, claim=False).held <= b.held - c2.acquired  # b lost those
    store.close()


def test_capacity_caps_the_share_and_the_rest_stays_unowned(store_url, tmp_path):
    store = open_store(store_url)
    store.register_worker("only", "host", 1, capacity=3, version="test")
    assert len(store.lease_round("only", CAMERAS, 3, lease_s=30, claim=True).held) == 3
    config = make_config(tmp_path)
    store.sync_config(config)
    client = TestClient(create_app(config, store, registry=CollectorRegistry()))
    (worker,) = client.get("/api/v1/workers").json()
    assert worker["id"] == "only" and worker["alive"] and worker["cameras_held"] == 3
    metrics = client.get("/metrics").text
    assert 'vision_worker_alive{worker="only"} 1.0' in metrics
    assert 'vision_worker_cameras{worker="only"} 3.0' in metrics
    held = set(store.lease_round("only", CAMERAS, 3, lease_s=30, claim=False).held)
    enabled = {c.id for c in store.cameras() if c.enabled}
    assert f"vision_cameras_unowned {float(len(enabled - held))}" in metrics
    store.worker_stopped("only")
    assert client.get("/api/v1/workers").json()[0]["state"] == "stopped"
    assert all(lease.worker_id is None for lease in store.leases())
    store.close()


def test_a_write_under_a_superseded_lease_is_refused_also_from_a_spool(store_url, tmp_path):
    """Fencing: worker a's lease of a camera expires and b claims it (generation 2). What a finished before
    b's claim is stored; what a finished after it (a resumed, frozen process, or its spool replayed later)
    is refused and kept in a's dead letters with the reason; so are its up-interval and its status row."""
    import dataclasses
    import json
    import time
    from datetime import UTC, datetime, timedelta

    from vision.store.writer import DEAD_LETTER, StoreWriter
    from vision.testing.observations import observations

    store = open_store(store_url)
    for worker in ("a", "b"):
        store.register_worker(worker, "host", 1, capacity=1, version="test")
    first = store.lease_round("a", ["cam-a"], 1, lease_s=0.2, claim=True)
    assert first.held == {"cam-a"} and first.generations == {"cam-a": 1}
    time.sleep(0.4)  # a is frozen past its lease
    second = store.lease_round("b", ["cam-a"], 1, lease_s=30, claim=True)
    assert second.acquired == {"cam-a"} and second.generations == {"cam-a": 2}
    claimed_at = datetime.now(UTC)

    before, after = observations(2)
    before = dataclasses.replace(before, ended_at=claimed_at - timedelta(seconds=5))
    after = dataclasses.replace(after, ended_at=claimed_at + timedelta(seconds=5))
    spool = tmp_path / "spool-a"
    writer = StoreWriter(store, spool, worker_id="a", lease_generation=first.generations.get)
    run = store.start_run("config.yaml", "test")
    writer.observations(run, [before, after])
    writer.camera_up(run, "cam-a", claimed_at + timedelta(seconds=6))
    writer.camera_status(
        "cam-a", CameraReport(state="up", fps=2.0, frames_read=5, frames_processed=5, frames_dropped=0, reconnects=0)
    )
    writer.close()
    assert [r.obs_key for r in store.observations(limit=10)] == [before.key]
    assert store.observations(limit=10)[0].lease_generation == 1
    dead = [json.loads(line) for line in (spool / DEAD_LETTER).read_text().splitlines()]
    assert [entry["record"]["t"] for entry in dead] == ["obs", "up"]
    assert all("stale lease: generation 1 of cam-a" in entry["reason"] for entry in dead)
    assert "cam-a" not in store.camera_statuses(), "b holds cam-a: a's status row is not written"

    b_writer = StoreWriter(store, tmp_path / "spool-b", worker_id="b", lease_generation=second.generations.get)
    late = dataclasses.replace(observations(3)[2], ended_at=claimed_at + timedelta(seconds=7))
    b_writer.observations(run, [late])
    b_writer.close()
    assert late.key in {r.obs_key for r in store.observations(limit=10)}, "the new owner's write is stored"
    store.close()
