"""A copy of the committed helmet spec at another input size, for tests that trade accuracy for time."""

from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[1] / "models"


def write_helmet_spec(folder: Path, input_size: int) -> Path:
    """``folder/helmet-<size>.yaml``: models/helmet-yolov12m.yaml (close-up model), absolute paths, ``input_size``."""
    spec = yaml.safe_load((MODELS / "helmet-yolov12m.yaml").read_text())
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
