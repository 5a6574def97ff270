"""Model specs for tests: the committed helmet spec at another input size (tests that trade accuracy for time),
models built on demand, and a one-camera config."""

from pathlib import Path

import pytest
import yaml

MODELS = Path(__file__).resolve().parents[1] / "models"


def require_built_model(spec_name: str) -> Path:
    """``models/<spec_name>``, skipping the test, with the command that builds them, when its weights are
    built on demand (the spec's ``build``) and not built on this machine."""
    from vision.detectors import load_spec

    path = MODELS / spec_name
    spec = load_spec(path)
    if (missing := spec.missing_weights()) and spec.build:
        pytest.skip(f"{missing[0].name} is not built on this machine (built on demand: {spec.build})")
    return path


def write_helmet_spec(folder: Path, input_size: int) -> Path:
    """``folder/helmet-<size>.yaml``: models/helmet.yaml (the default YOLO11n), absolute paths, ``input_size``."""
    spec = yaml.safe_load((MODELS / "helmet.yaml").read_text())
    spec.update(path=str(MODELS / spec["path"]), evaluation=str(MODELS / spec["evaluation"]), input_size=input_size)
    path = folder / f"helmet-{input_size}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


def write_one_camera_config(
    folder: Path, source: Path, model: Path, site: dict | None = None, tracking: dict | None = None, **camera
) -> Path:
    """``folder/config.yaml``: one helmet camera ``cam`` at site ``gate`` replaying ``source`` at
    5 detections/s into ``folder/store.db``; ``camera`` adds camera fields (e.g. ``start_time``)."""
    config = {
        "sites": [{"id": "gate", "name": "Gate", **(site or {})}],
        "cameras": [
            {
                "id": "cam",
                "site": "gate",
                "source": str(source),
                "category": "helmet",
                "model": str(model),
                "detect_fps": 5,
                # The committed clips are close-ups with no two-wheeler in view: every head counts.
                "riders_only": False,
                **camera,
            }
        ],
        "store": {"url": f"sqlite:///{folder / 'store.db'}"},
    }
    if tracking:
        config["tracking"] = tracking
    path = folder / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    return path
