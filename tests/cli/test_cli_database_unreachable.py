"""Issue 9 §7: with the database away, the `scms` script says so in one line, no traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

SCMS = str(Path(sys.executable).parent / "scms")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # nobody listens on it once the socket is closed


def test_issue_9_s7_cli_says_in_one_line_that_the_database_is_unreachable() -> None:
    url = f"postgresql+asyncpg://scms:s3cret@127.0.0.1:{_closed_port()}/scms"
    env = {**os.environ, "SCMS_DATABASE_URL": url, "SCMS_DB_CONNECT_TIMEOUT_SECONDS": "2"}
    commands = [
        ["migrate"],
        ["api-keys", "list"],
        ["bill-run", "--month", "2026-06"],
    ]
    processes = [
        subprocess.Popen(
            [SCMS, *command], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in commands
    ]
    for command, process in zip(commands, processes, strict=True):
        stdout, stderr = process.communicate(timeout=60)
        assert process.returncode == 1, (command, stdout, stderr)
        assert "Traceback" not in stdout + stderr, (command, stderr)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, (command, stderr)
        assert "is unreachable" in lines[0]
        assert "SCMS_DATABASE_URL" in lines[0]
        assert "s3cret" not in stdout + stderr  # the password is never printed
