"""Shared fixtures: paths to the committed test data, the models, and the optional ../shared datasets."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from vision.testing.postgres import NoPostgresError, PostgresCluster

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


@pytest.fixture(scope="session")
def teacher():
    """The COCO teacher that labels two-wheelers for the training sets (``vision.training.synthesis.Teacher``);
    tests that need it skip, with the reason, without ``../shared/weights`` or OpenVINO."""
    from vision.training import synthesis

    if not synthesis.TEACHER_XML.is_file():
        pytest.skip(f"needs the COCO teacher at {synthesis.TEACHER_XML} (../shared/weights, not on this machine)")
    pytest.importorskip("openvino", reason="the teacher runs on OpenVINO (the [openvino] extra)")
    return synthesis.Teacher()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: VISION_TEST_POSTGRES_URL if set, else a throwaway cluster started here.

    Starting one needs the server binaries (Debian's postgresql) and, as PostgreSQL refuses to run
    as root, the 'postgres' user when the tests run as root. Otherwise the tests skip, saying why.
    """
    if url := os.environ.get("VISION_TEST_POSTGRES_URL"):
        yield url
        return
    try:
        cluster = PostgresCluster().start()
    except NoPostgresError as reason:
        pytest.skip(f"{reason} and VISION_TEST_POSTGRES_URL is unset")
    try:
        yield cluster.url
    finally:
        cluster.remove()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh store on a SQLite file, then on the throwaway PostgreSQL (emptied): every test runs on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'vision.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    import sqlalchemy as sa

    from vision.store import open_store
    from vision.store.schema import meta_table, metadata

    store = open_store(url)
    with store.engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):  # every table the schema has, new ones too
            if table is not meta_table:  # the schema version stays
                connection.execute(sa.delete(table))
    store.close()
    yield url
