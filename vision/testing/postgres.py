"""A throwaway PostgreSQL cluster on loopback that a test can stop and start (tests, scripts/bench_workers.py)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


class NoPostgresError(RuntimeError):
    """Why no cluster can be started here (the tests skip with this reason)."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresCluster:
    """``initdb`` into a temporary folder; :meth:`start` and :meth:`stop` (``-m immediate``, as a crash) at will.

    Needs Debian's postgresql server binaries and, when run as root, the 'postgres' user to run it.
    """

    def __init__(self, password: str | None = None) -> None:
        bin_dirs = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        initdb = shutil.which("initdb") or next((str(d / "initdb") for d in bin_dirs if (d / "initdb").exists()), None)
        if initdb is None:
            raise NoPostgresError("no PostgreSQL server here (install Debian's postgresql)")
        self.pg_ctl = str(Path(initdb).with_name("pg_ctl"))
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            if shutil.which("runuser") is None or subprocess.run(["id", "postgres"], capture_output=True).returncode:
                raise NoPostgresError("running as root without a 'postgres' user to start PostgreSQL as")
            self.run_as = ["runuser", "-u", "postgres", "--"]
        self.folder = Path(tempfile.mkdtemp(prefix="vision-pg-"))
        if self.run_as:
            shutil.chown(self.folder, "postgres")
        self.data, self.port = self.folder / "data", _free_port()
        self.password = password
        auth = ["-A", "trust"]
        if password is not None:  # password authentication, for tests of a wrong one
            pwfile = self.folder / "pwfile"
            pwfile.write_text(password + "\n")
            if self.run_as:
                shutil.chown(pwfile, "postgres")
            auth = ["-A", "scram-sha-256", "--pwfile", str(pwfile)]
        subprocess.run(
            [*self.run_as, initdb, "-D", str(self.data), *auth, "-U", "vision"], check=True, capture_output=True
        )

    @property
    def url(self) -> str:
        credentials = "vision" if self.password is None else f"vision:{self.password}"
        return f"postgresql+psycopg://{credentials}@127.0.0.1:{self.port}/postgres"

    def start(self) -> PostgresCluster:
        options = f"-k {self.folder} -p {self.port} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        subprocess.run(
            [
                *self.run_as,
                self.pg_ctl,
                "-D",
                str(self.data),
                "-o",
                options,
                "-w",
                "start",
                "-l",
                str(self.folder / "log"),
            ],
            check=True,
            capture_output=True,
        )
        return self

    def stop(self) -> None:
        subprocess.run(
            [*self.run_as, self.pg_ctl, "-D", str(self.data), "-m", "immediate", "stop"], capture_output=True
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)
