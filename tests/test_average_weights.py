"""scripts/average_weights.py: the mean of real ultralytics checkpoints, refused across networks."""

from __future__ import annotations

from pathlib import Path

import pytest
from script_support import load_script

torch = pytest.importorskip("torch", reason="scripts/average_weights.py needs the [train] extra (torch)")
pytest.importorskip("ultralytics", reason="scripts/average_weights.py needs the [train] extra (ultralytics)")

average_weights = load_script("average_weights")


def _checkpoint(path: Path, yaml: str, seed: int) -> dict:
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(seed)
    model = DetectionModel(yaml, nc=3, verbose=False)
    for parameter in model.parameters():
        parameter.data.normal_()
    torch.save({"model": model.half(), "ema": None, "train_args": {"imgsz": 640}}, path)
    return {k: v.float() for k, v in model.state_dict().items()}


def test_the_average_is_the_mean_of_every_float_tensor(tmp_path):
    first = _checkpoint(tmp_path / "a.pt", "yolo11n.yaml", 0)
    second = _checkpoint(tmp_path / "b.pt", "yolo11n.yaml", 1)
    result = average_weights.average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"])
    state = {k: v.float() for k, v in result["model"].state_dict().items()}
    assert state.keys() == first.keys()
    weight = next(k for k in state if k.endswith("conv.weight"))
    torch.testing.assert_close(state[weight], (first[weight] + second[weight]) / 2, atol=2e-3, rtol=2e-3)
    assert result["optimizer"] is None and result["train_args"] == {"imgsz": 640}
    assert result["averaged_from"] == [str(tmp_path / "a.pt"), str(tmp_path / "b.pt")]


def test_checkpoints_of_different_networks_are_refused(tmp_path):
    _checkpoint(tmp_path / "n.pt", "yolo11n.yaml", 0)
    _checkpoint(tmp_path / "s.pt", "yolo11s.yaml", 0)
    with pytest.raises(SystemExit, match="not the same network"):
        average_weights.average_checkpoints([tmp_path / "n.pt", tmp_path / "s.pt"])


def _folded(state_path: Path) -> dict:
    model = torch.load(state_path, map_location="cpu", weights_only=False)["model"].float().eval()
    return {k: v.float() for k, v in model.fuse(verbose=False).state_dict().items()}


def test_a_weighted_folded_average_is_the_weighted_mean_of_the_folded_networks(tmp_path):
    _checkpoint(tmp_path / "a.pt", "yolo11n.yaml", 0)
    _checkpoint(tmp_path / "b.pt", "yolo11n.yaml", 1)
    first, second = _folded(tmp_path / "a.pt"), _folded(tmp_path / "b.pt")
    result = average_weights.average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"], [3, 1], folded=True)
    state = {k: v.float() for k, v in result["model"].state_dict().items()}
    assert state.keys() == first.keys() and not any("bn." in key for key in state)
    for key in (k for k in state if k.endswith("conv.weight") or k.endswith("conv.bias")):
        expected = 0.75 * first[key] + 0.25 * second[key]
        torch.testing.assert_close(state[key], expected, atol=2e-3 * expected.abs().max().item(), rtol=2e-3)
    assert result["averaged_weights"] == [0.75, 0.25] and result["averaged_folded"] is True


def test_a_weight_per_checkpoint_is_required(tmp_path):
    _checkpoint(tmp_path / "a.pt", "yolo11n.yaml", 0)
    _checkpoint(tmp_path / "b.pt", "yolo11n.yaml", 1)
    with pytest.raises(SystemExit, match="one positive weight per checkpoint"):
        average_weights.average_checkpoints([tmp_path / "a.pt", tmp_path / "b.pt"], [1])


def test_the_export_check_images_default_to_the_first_run_of_the_checkpoints():
    run_checkpoint = average_weights.ROOT / "build" / "runs" / "helmet-yolo11n-s9" / "weights" / "epoch5.pt"
    soup = average_weights.ROOT / "build" / "soups" / "s1b-swa" / "best.pt"
    expected = average_weights.ROOT / "build" / "yolo-data" / "helmet-yolo11n-s9" / "images" / "val"
    assert average_weights.default_check_images([soup, run_checkpoint]) == expected
