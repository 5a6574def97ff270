"""scripts/train.py's bookkeeping: when a rerun of the same command continues, and epoch times across resumes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from script_support import load_script

torch = pytest.importorskip("torch", reason="scripts/train.py needs the [train] extra (torch, ultralytics)")
pytest.importorskip("ultralytics", reason="scripts/train.py needs the [train] extra (torch, ultralytics)")

ROOT = Path(__file__).resolve().parents[1]
train = load_script("train", "train_script")
ARGV = ["--data", "build/helmet-wide", "--name", "helmet-yolo11n", "--epochs", "20"]
HEADER = "epoch,time,train/box_loss\n"


def _run_dir(tmp_path: Path, checkpoint: dict, run: dict) -> Path:
    (tmp_path / "weights").mkdir(parents=True)
    torch.save(checkpoint, tmp_path / "weights" / "last.pt")
    (tmp_path / "run.json").write_text(json.dumps(run))
    return tmp_path


def test_a_killed_run_continues_even_after_its_best_was_exported(tmp_path):
    # --export-only writes epochs_done into run.json; the checkpoint still holds the optimizer.
    run_dir = _run_dir(tmp_path, {"epoch": 6, "optimizer": {"state": {}}}, {"argv": ARGV, "epochs_done": 7})
    assert train._same_run_interrupted(run_dir / "run.json", run_dir, ARGV)


def test_a_finished_run_or_another_command_starts_afresh(tmp_path):
    finished = _run_dir(tmp_path / "a", {"epoch": -1, "optimizer": None}, {"argv": ARGV})
    assert not train._same_run_interrupted(finished / "run.json", finished, ARGV)
    killed = _run_dir(tmp_path / "b", {"epoch": 3, "optimizer": {"state": {}}}, {"argv": ARGV})
    assert not train._same_run_interrupted(killed / "run.json", killed, [*ARGV[:-1], "30"])
    assert not train._same_run_interrupted(tmp_path / "c" / "run.json", tmp_path / "c", ARGV)


def test_epoch_times_across_a_resume(tmp_path):
    # ultralytics' time column restarts from zero in the process that resumed.
    results = tmp_path / "results.csv"
    results.write_text(HEADER + "1,800,1\n2,1500,1\n3,610,1\n4,1200,1\n")
    assert train.epoch_times(results) == (4, [800.0, 700.0, 610.0, 590.0])


def test_a_dataset_variant_is_described_by_its_family():
    assert train.dataset_info("build/helmet-wide-g3") is train.DATASETS["helmet-wide"]
    assert train.dataset_info("build/face-mask") is train.DATASETS["face-mask"]
    with pytest.raises(SystemExit, match="unknown dataset 'helmet'"):
        train.dataset_info("build/helmet")


def test_a_checkpoint_start_is_described_by_its_own_network(tmp_path):
    # A weight average of YOLO11n stages must not be called the YOLOv12m helmet checkpoint in its card.
    from ultralytics.nn.tasks import DetectionModel

    model = DetectionModel("yolo11n.yaml", nc=3, verbose=False)
    torch.save({"model": model.half(), "ema": None}, tmp_path / "soup.pt")
    summary = train.checkpoint_summary(tmp_path / "soup.pt")
    assert summary == {"family": "YOLO11n", "parameters": sum(p.numel() for p in model.parameters())}
    assert train.model_family({"weights": "build/soups/x/best.pt", "start_checkpoint": summary}) == "YOLO11n"
