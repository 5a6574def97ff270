"""Evidence files on a real disk: written off the caller's thread, swept by age and size, a full disk survived."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import numpy as np
import pytest
from prometheus_client import CollectorRegistry

from vision.evidence.capture import BestView, CaptureSettings, Evidence
from vision.evidence.writer import EvidenceWriter, sweep

ENDED = datetime(2026, 11, 2, 7, 45, tzinfo=UTC)


def evidence(seed: int) -> Evidence:
    rng = np.random.default_rng(seed)  # noise: JPEGs of a realistic, incompressible size
    return Evidence(
        crop=rng.integers(0, 255, (80, 60, 3), dtype=np.uint8),
        snapshot=rng.integers(0, 255, (270, 480, 3), dtype=np.uint8),
        score=0.8,
    )


SETTINGS = CaptureSettings(margin=0.3, snapshot_width=480, blur_judged=False)


def view(seed: int) -> BestView:
    """A track's best detection: a noisy frame and one head box in it, cropped on the writer's thread."""
    frame = evidence(seed).snapshot
    return BestView(frame, np.array([[100, 60, 160, 140]], dtype=np.float32), 0, 0.8)


def test_files_are_written_by_the_thread_and_reported(tmp_path):
    written = []
    registry = CollectorRegistry()
    writer = EvidenceWriter(tmp_path / "evidence", written.append, registry).start()
    for index in range(5):
        writer.submit(f"key{index}", "gate", ENDED, view(index), SETTINGS)
    writer.close()
    assert sorted(file.key for file in written) == [f"key{index}" for index in range(5)]
    for file in written:
        assert (tmp_path / "evidence" / file.crop_path).is_file()
        assert file.snapshot_path == f"gate/2026-11-02/{file.key}.snapshot.jpg"
        assert file.bytes == sum(
            (tmp_path / "evidence" / p).stat().st_size for p in (file.crop_path, file.snapshot_path)
        )
    assert registry.get_sample_value("vision_evidence_written_total") == 5


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_drops_pixels_not_observations(tmp_path):
    folder = tmp_path / "evidence"
    folder.mkdir()
    folder.chmod(0o500)
    registry = CollectorRegistry()
    written = []
    writer = EvidenceWriter(folder, written.append, registry)
    assert writer.write("k", "gate", ENDED, evidence(1)) is None
    assert registry.get_sample_value("vision_evidence_dropped_total", {"reason": "disk_error"}) == 1
    folder.chmod(0o700)


def test_a_full_disk_drops_pixels_not_observations(tmp_path):
    """/dev/full answers every write with ENOSPC, as a full disk does."""
    registry = CollectorRegistry()
    folder = tmp_path / "evidence"
    (folder / "gate" / "2026-11-02").mkdir(parents=True)
    (folder / "gate" / "2026-11-02" / "k.crop.tmp").symlink_to("/dev/full")
    writer = EvidenceWriter(folder, lambda file: None, registry)
    assert writer.write("k", "gate", ENDED, evidence(1)) is None
    assert registry.get_sample_value("vision_evidence_dropped_total", {"reason": "disk_error"}) == 1


def test_a_full_queue_drops_and_counts(tmp_path):
    registry = CollectorRegistry()
    writer = EvidenceWriter(tmp_path, lambda file: None, registry, max_queue=2)  # not started: nothing drains it
    for index in range(5):
        writer.submit(f"k{index}", "gate", ENDED, view(index), SETTINGS)
    assert registry.get_sample_value("vision_evidence_dropped_total", {"reason": "queue_full"}) == 3


def test_the_sweep_removes_the_oldest_pixels_first(tmp_path):
    written = []
    writer = EvidenceWriter(tmp_path, written.append)
    now = time.time()
    for index in range(6):
        file = writer.write(f"k{index}", "gate", ENDED, evidence(index))
        written.append(file)
        for path in (file.crop_path, file.snapshot_path):  # k0 is the oldest, k5 the newest
            os.utime(tmp_path / path, (now - 3600 * (10 - index), now - 3600 * (10 - index)))
    each = written[0].bytes
    by_age, by_size, left = sweep(tmp_path, max_age_s=8.5 * 3600, max_bytes=int(3.5 * each), now=now)
    assert by_age == ["k0", "k1"]  # 10 h and 9 h old
    assert by_size == ["k2"]  # then the oldest until 3 (of about equal size) fit
    assert left <= 3.5 * each
    assert sorted(p.name.split(".")[0] for p in tmp_path.rglob("*.crop.jpg")) == ["k3", "k4", "k5"]
    assert sweep(tmp_path, max_age_s=None, max_bytes=0, now=now)[1] == ["k3", "k4", "k5"]
    assert not any(tmp_path.rglob("*.jpg")) and not (tmp_path / "gate").exists()  # empty day folders go too


def test_evidence_in_the_store_is_served_by_another_machine_and_swept(store_url, tmp_path):
    """storage: database. A worker (its own evidence folder) writes a crop and snapshot into the store; a
    `vision serve` with another, empty folder and the same store serves them; the sweep deletes by age
    and size there, and the API then says the pixels are gone while the observation stays."""
    from fastapi.testclient import TestClient

    from api_support import make_config
    from vision.api import create_app
    from vision.evidence.writer import DatabaseSink, open_sink
    from vision.store import open_store
    from vision.store.writer import StoreWriter
    from vision.testing.observations import observations

    store = open_store(store_url)
    worker_config = make_config(tmp_path / "worker")
    worker_config = worker_config.model_copy(
        update={
            "store": worker_config.store.model_copy(update={"url": store_url}),
            "evidence": worker_config.evidence.model_copy(update={"storage": "database", "folder": tmp_path / "w"}),
        }
    )
    sink = open_sink(worker_config.evidence, store_url, store)
    assert isinstance(sink, DatabaseSink)
    journal = StoreWriter(store, tmp_path / "spool")
    run = store.start_run("config.yaml", "test")
    finished = observations(3)
    journal.observations(run, finished)
    writer = EvidenceWriter(sink, journal.evidence_kept)
    files = [writer.write(o.key, "gate", ENDED, evidence(index)) for index, o in enumerate(finished)]
    for file in files:  # what the writer's thread tells the store writer
        journal.evidence_kept(file)
    journal.close()
    assert all(files) and not (tmp_path / "w").exists(), "nothing on the worker's disk"

    serve_config = worker_config.model_copy(
        update={"evidence": worker_config.evidence.model_copy(update={"folder": tmp_path / "serve-empty"})}
    )
    client = TestClient(create_app(serve_config, store))
    auth = {"Authorization": f"Bearer {serve_config.api.token}"}
    ids = {row.obs_key: row.id for row in store.observations(limit=10)}
    first = ids[finished[0].key]
    response = client.get(f"/api/v1/observations/{first}/crop.jpg", headers=auth)
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg", response.text
    assert response.content[:2] == b"\xff\xd8", "a JPEG"
    assert client.get(f"/api/v1/observations/{first}/snapshot.jpg", headers=auth).content == sink.read(
        files[0].snapshot_path
    )

    each = files[0].bytes
    by_age, by_size, left = sink.sweep(max_age_s=None, max_bytes=int(1.5 * each), now=time.time())
    assert by_age == [] and len(by_size) == 2 and left <= 1.5 * each
    by_age, _, left = sink.sweep(max_age_s=0.0, max_bytes=None, now=time.time() + 1)
    assert len(by_age) == 1 and left == 0
    gone = StoreWriter(store, tmp_path / "spool")
    gone.evidence_gone(by_size + by_age, "size")
    gone.close()
    assert client.get(f"/api/v1/observations/{first}/crop.jpg", headers=auth).status_code == 410
    assert len(store.observations(limit=10)) == 3, "the counts stay"
    store.close()
