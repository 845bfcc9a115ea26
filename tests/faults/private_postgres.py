"""A private PostgreSQL cluster for one fault test, on its own port and data directory, so
that stopping it disturbs no other test (`scripts/postgres.sh` runs one shared cluster)."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

PORT_ENV = "EXCHANGE_FAULTS_PG_PORT"


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


class PrivatePostgres:
    """initdb, start, stop and restart one throw-away cluster (trust auth, 127.0.0.1)."""

    def __init__(self, port: int) -> None:
        bin_dir = _bin_dir()
        if bin_dir is None:
            pytest.skip("no PostgreSQL server binaries (run `bash scripts/postgres.sh start`)")
        self.bin_dir = bin_dir
        self.port = port
        # The cluster's owner must reach it: not under root's private pytest directory.
        self.root = Path(tempfile.mkdtemp(prefix="exchange-faults-pg-"))
        self.data = self.root / "data"
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"

    def _as_owner(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, cwd="/")

    def create(self) -> None:
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self._as_owner(
            str(self.bin_dir / "initdb"),
            f"--pgdata={self.data}",
            "--username=postgres",
            "--auth=trust",
            "--encoding=UTF8",
        )
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
                "unix_socket_directories = ''\nfsync = off\n"
            )

    def start(self) -> None:
        self._as_owner(
            str(self.bin_dir / "pg_ctl"),
            "start",
            "-w",
            "-t",
            "60",
            f"--pgdata={self.data}",
            f"--log={self.root / 'postgres.log'}",
        )

    def stop(self) -> None:
        """A fast shutdown: every connection is cut at once, as in a crash of the server."""
        self._as_owner(
            str(self.bin_dir / "pg_ctl"), "stop", "-w", "-m", "immediate", f"--pgdata={self.data}"
        )

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
