"""vision.training.onnx_export: a checkpoint exported as the served ONNX file, its fp16 weight storage checked."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch", reason="vision.training.onnx_export needs the [train] extra (torch)")
pytest.importorskip("ultralytics", reason="vision.training.onnx_export needs the [train] extra (ultralytics)")
pytest.importorskip("onnx", reason="vision.training.onnx_export needs the [train] extra (onnx)")

from vision.training.coco_start import make_onnx_start_checkpoint  # noqa: E402
from vision.training.onnx_export import (  # noqa: E402
    export_checked,
    letterboxed_batch,
    ort_raw_output,
    ort_session,
    raw_diff,
)

ROOT = Path(__file__).resolve().parents[2]
SERVED = ROOT / "models" / "helmet-yolo11n.onnx"
IMAGES = sorted((ROOT / "tests" / "data" / "voc" / "helmet" / "images").glob("*.jpg"))


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory) -> Path:
    """The served model as an fp32 checkpoint (what ``scripts/train.py --weights X.onnx`` starts from)."""
    checkpoint = tmp_path_factory.mktemp("start") / "helmet-yolo11n.pt"
    make_onnx_start_checkpoint(SERVED, IMAGES, checkpoint, calibration_images=len(IMAGES), check=IMAGES)
    return checkpoint


def test_a_trained_fp16_checkpoint_is_stored_as_fp16_without_changing_a_detection(rebuilt, tmp_path):
    saved = torch.load(rebuilt, map_location="cpu", weights_only=False)
    saved["model"] = saved["model"].half()  # as ultralytics saves every epoch's checkpoint
    checkpoint = tmp_path / "trained.pt"
    torch.save(saved, checkpoint)
    out = tmp_path / "exported.onnx"

    report = export_checked(checkpoint, out, 640, IMAGES)

    assert report["fp16_storage"] and report["detections_identical"], report
    assert report["folded_bn_weights"] > 80, "every conv + BatchNorm weight is stored as its checkpoint's fp16 value"
    assert report["onnx_mb"] < 0.6 * report["fp32_mb"]
    assert "images(" in report["io"] and "output0(" in report["io"]
    batch = letterboxed_batch(IMAGES, 640)
    served, exported = (ort_raw_output(ort_session(path), batch) for path in (SERVED, out))
    assert raw_diff(served, exported).scores_confident < 0.02, "the served model, its weights rounded to fp16"


def test_an_fp32_checkpoint_whose_rounding_would_change_detections_keeps_fp32_weights(rebuilt, tmp_path):
    out = tmp_path / "exported.onnx"

    report = export_checked(rebuilt, out, 640, IMAGES)

    assert not report["fp16_storage"] and report["folded_bn_weights"] == 0, report
    assert report["onnx_mb"] == report["fp32_mb"]
    batch = letterboxed_batch(IMAGES, 640)
    served, exported = (ort_raw_output(ort_session(path), batch) for path in (SERVED, out))
    difference = raw_diff(served, exported)
    assert difference.boxes_confident < 0.05 and difference.scores_confident < 1e-3, str(difference)
