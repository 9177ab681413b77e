"""A throwaway PostgreSQL cluster under ``pg_ctl`` in a temporary folder (issue 9 §7).

Tests stop and start it to take a real database away and bring it back. ``initdb``
refuses to run as root, so as root the cluster belongs to the ``postgres`` user
(``runuser``); otherwise to whoever runs the tests.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def _bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("pg_ctl")
    return Path(on_path).parent if on_path else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


class PgCluster:
    def __init__(self) -> None:
        # Not under pytest's tmp_path: its parents are private to root, and the cluster's
        # owner must reach its folder.
        self.directory = Path(tempfile.mkdtemp(prefix="scms-pg-"))
        self.data = self.directory / "data"
        self.port = _free_port()
        self.bin = _bin_dir()
        self._as: list[str] = []

    @staticmethod
    def missing() -> str | None:
        """Why a cluster cannot be made here, or None."""
        if _bin_dir() is None:
            return "no pg_ctl/initdb (PostgreSQL server binaries) on this machine"
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                return "running as root without runuser to hand initdb to the postgres user"
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                return "running as root and there is no postgres user for initdb"
        return None

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        assert self.bin is not None
        subprocess.run(
            [*self._as, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def init(self) -> None:
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory} -c fsync=off"
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.directory / "log"), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # not running
            self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)
