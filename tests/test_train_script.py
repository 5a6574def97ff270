"""scripts/train.py: when a rerun of the same command continues, epoch times across resumes, VOC to YOLO labels and
the spec it writes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from script_support import load_script

from vision.detectors.spec import load_spec
from vision.evaluation.voc import LabelledImage, load_voc

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


def test_voc_becomes_yolo_labels_clipped_to_the_image(tmp_path, data_dir):
    voc = data_dir / "voc" / "helmet"
    names = sorted(path.stem for path in (voc / "annotations").glob("*.xml"))
    (tmp_path / "train.txt").write_text("\n".join(names[1:]) + "\n")
    (tmp_path / "val.txt").write_text(names[0] + "\n")
    classes = ["with_helmet", "without_helmet"]

    stats = train.convert_voc(
        voc, tmp_path / "yolo", classes, {"train": tmp_path / "train.txt", "val": tmp_path / "val.txt"}
    )

    assert (stats["train"].images, stats["val"].images) == (len(names) - 1, 1)
    first = load_voc(voc, tmp_path / "val.txt")[0]
    (label_file,) = (tmp_path / "yolo" / "labels" / "val").iterdir()
    rows = np.array([[float(v) for v in line.split()] for line in label_file.read_text().splitlines()])
    height, width = first.size
    np.testing.assert_array_equal(rows[:, 0], [classes.index(label) for label in first.labels])
    np.testing.assert_allclose(rows[:, 1] * width, (first.xyxy[:, 0] + first.xyxy[:, 2]) / 2, atol=1e-3)
    np.testing.assert_allclose(rows[:, 4] * height, first.xyxy[:, 3] - first.xyxy[:, 1], atol=1e-3)
    assert (tmp_path / "yolo" / "images" / "val" / first.image_path.name).resolve() == first.image_path.resolve()
    data_yaml = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())
    assert data_yaml["names"] == {0: "with_helmet", 1: "without_helmet"} and data_yaml["val"] == "images/val"

    outside = LabelledImage(
        "far", first.image_path, (100, 200), np.array([[-5, 10, 50, 130]], np.float32), ("with_helmet",)
    )
    assert train.yolo_lines(outside, classes) == ["0 0.125000 0.550000 0.250000 0.900000"], "clipped to the image"
    with pytest.raises(SystemExit, match="'two_wheeler' is not one of --classes"):
        train.yolo_lines(LabelledImage("x", first.image_path, (100, 200), outside.xyxy, ("two_wheeler",)), classes)


def test_the_written_spec_loads_with_the_trained_classes_outcomes(tmp_path):
    run = {
        "data": "build/helmet-wide-id-rc",
        "classes": ["with_helmet", "without_helmet", "two_wheeler"],
        "weights": "../shared/weights/yolo11n-coco-fused.npz",
        "hyperparams": {"imgsz": 640},
    }
    spec_file = tmp_path / "helmet-fast.yaml"

    train.write_spec(spec_file, "helmet-yolo11n.onnx", "helmet-yolo11n.md", run)

    spec = load_spec(spec_file)
    assert {name: outcome.value for name, outcome in spec.outcomes.items()} == {
        "with_helmet": "compliant",
        "without_helmet": "non_compliant",
    }
    assert (spec.path, spec.input_size, spec.native_frame_height) == (tmp_path / "helmet-yolo11n.onnx", 640, 1080)
    assert spec.evaluation == tmp_path / "helmet-fast.eval.json"
    assert spec_file.read_text().startswith("# Helmet detector: YOLO11n fine-tuned from the COCO weights")
