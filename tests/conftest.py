"""Shared fixtures: paths to the committed test data, the models, and the optional ../shared datasets."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
MODELS = ROOT / "models"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def models_dir() -> Path:
    return MODELS


@pytest.fixture(scope="session")
def shared_datasets() -> Path:
    """``../shared/datasets``; tests that need it skip, with the reason, on a machine without it."""
    if not (SHARED_DATASETS / "bike-helmet" / "val.txt").is_file():
        pytest.skip(f"needs the labelled datasets at {SHARED_DATASETS} (not present on this machine)")
    return SHARED_DATASETS
