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
