"""A copy of the committed helmet spec at another input size, for tests that trade accuracy for time."""

from pathlib import Path

import yaml

MODELS = Path(__file__).resolve().parents[1] / "models"


def write_helmet_spec(folder: Path, input_size: int) -> Path:
    """``folder/helmet-<size>.yaml``: models/helmet.yaml with absolute paths and ``input_size``."""
    spec = yaml.safe_load((MODELS / "helmet.yaml").read_text())
    spec.update(path=str(MODELS / spec["path"]), evaluation=str(MODELS / spec["evaluation"]), input_size=input_size)
    path = folder / f"helmet-{input_size}.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path
