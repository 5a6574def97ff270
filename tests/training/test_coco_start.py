"""vision.training.coco_start (scripts/py --onnx): the served YOLO11n rebuilt as a trainable checkpoint
that reproduces it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="vision.training.coco_start needs the [train] extra (torch, ultralytics)")
pytest.importorskip("ultralytics", reason="vision.training.coco_start needs the [train] extra (torch, ultralytics)")
pytest.importorskip("onnx", reason="vision.training.coco_start needs the [train] extra (onnx)")

from vision.errors import VisionError  # noqa: E402
from vision.training.coco_start import arrays_from_onnx, letterboxed, make_onnx_start_checkpoint  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SERVED = ROOT / "models" / "helmet-yolo11n.onnx"
IMAGES = sorted((ROOT / "tests" / "data" / "voc" / "helmet" / "images").glob("*.jpg"))


def test_the_served_onnx_model_rebuilds_into_a_checkpoint_that_reproduces_it(tmp_path):
    out = tmp_path / "helmet-yolo11n.pt"
    meta = make_onnx_start_checkpoint(SERVED, IMAGES, out, calibration_images=len(IMAGES), check=IMAGES)

    assert meta["check"]["passed"] and meta["check"]["detections_identical"]
    assert meta["classes"] == ["with_helmet", "without_helmet", "two_wheeler"]
    checkpoint = torch.load(out, map_location="cpu", weights_only=False)
    assert checkpoint["model"].names == {0: "with_helmet", 1: "without_helmet", 2: "two_wheeler"}
    # ultralytics' own loader builds a 3-class yolo11n and takes every tensor: what a training stage does.
    from ultralytics.nn.tasks import DetectionModel

    fresh = DetectionModel("yolo11n.yaml", nc=3, verbose=False)
    fresh.load(checkpoint)
    fresh.eval()
    batch = letterboxed(IMAGES[:2])
    with torch.no_grad():
        ours = fresh(torch.from_numpy(batch))[0].numpy()
        rebuilt = checkpoint["model"].eval()(torch.from_numpy(batch))[0].numpy()
    np.testing.assert_allclose(ours, rebuilt, atol=1e-3)


def test_an_onnx_file_not_named_by_module_path_is_refused(tmp_path):
    import onnx
    from onnx import helper

    weight = helper.make_tensor("w", onnx.TensorProto.FLOAT, [1, 3, 1, 1], [1.0, 1.0, 1.0])
    graph = helper.make_graph(
        [helper.make_node("Conv", ["images", "w"], ["out"])],
        "g",
        [helper.make_tensor_value_info("images", onnx.TensorProto.FLOAT, [1, 3, 4, 4])],
        [helper.make_tensor_value_info("out", onnx.TensorProto.FLOAT, [1, 1, 4, 4])],
        [weight],
    )
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(path))
    with pytest.raises(VisionError, match="not named by module path"):
        arrays_from_onnx(path)
