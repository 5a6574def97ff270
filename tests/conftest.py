"""Shared fixtures: paths to the committed test data, the models, and the optional ../shared datasets."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
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


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL: VISION_TEST_POSTGRES_URL if set, else a throwaway cluster started here.

    Starting one needs the server binaries (Debian's postgresql) and, as PostgreSQL refuses to run
    as root, the 'postgres' user when the tests run as root. Otherwise the tests skip, saying why.
    """
    if url := os.environ.get("VISION_TEST_POSTGRES_URL"):
        yield url
        return
    bin_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    initdb = shutil.which("initdb") or next((str(d / "initdb") for d in bin_dirs if (d / "initdb").exists()), None)
    if initdb is None:
        pytest.skip("no PostgreSQL server here (install Debian's postgresql) and VISION_TEST_POSTGRES_URL is unset")
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
            pytest.skip("running as root without a 'postgres' user to start PostgreSQL as")
        run_as = ["runuser", "-u", "postgres", "--"]
    folder = Path(tempfile.mkdtemp(prefix="vision-pg-"))
    if run_as:
        shutil.chown(folder, "postgres")
    data, port = folder / "data", _free_port()
    subprocess.run([*run_as, initdb, "-D", str(data), "-A", "trust", "-U", "vision"], check=True, capture_output=True)
    options = f"-k {folder} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(
        [*run_as, pg_ctl, "-D", str(data), "-o", options, "-w", "start", "-l", str(folder / "log")],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://vision@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*run_as, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> Iterator[str]:
    """A fresh store on a SQLite file, then on the throwaway PostgreSQL (emptied): every test runs on both."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'vision.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    import sqlalchemy as sa

    from vision.store import open_store

    store = open_store(url)
    with store.engine.begin() as connection:
        for table in (
            "observations",
            "camera_uptime",
            "camera_status",
            "runs",
            "cameras",
            "sites",
            "workers",
            "camera_leases",
            "alert_state",
        ):
            connection.execute(sa.text(f"DELETE FROM {table}"))
    store.close()
    yield url
