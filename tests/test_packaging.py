"""Issue 9 §8: the wheel carries the migrations; an installed `scms migrate` works.

Builds the wheel from a copy of the sources, installs it (not editable) into a fresh
virtualenv outside the repository and migrates a new SQLite file with its `scms`. The
virtualenv borrows the dependencies of the test environment through a .pth line (so no
download is needed) but not its editable install of this project, which a .pth in a
borrowed directory cannot activate. Runs on the SQLite pass only: once per `make test`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from app.core.migrations import head_revisions


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_issue_9_s8_a_non_editable_install_of_the_wheel_can_migrate(
    db_kind: str, project_root: Path, tmp_path: Path
) -> None:
    if db_kind != "sqlite":
        pytest.skip("packaging does not depend on the database: the SQLite pass checks it")
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(project_root / name, source / name)
    shutil.copytree(
        project_root / "app", source / "app", ignore=shutil.ignore_patterns("__pycache__")
    )
    _run(
        sys.executable,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--no-deps",
        "--no-build-isolation",
        "--wheel-dir",
        tmp_path / "dist",
        source,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("scms-*.whl")

    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    site = Path(
        _run(
            python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path
        ).strip()
    )
    (site / "borrowed-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run(
        sys.executable,
        "-m",
        "pip",
        "--python",
        python,
        "install",
        "--quiet",
        "--no-deps",
        wheel,
        cwd=tmp_path,
    )

    # Run from a folder with no sources, no alembic.ini, no migrations/ in sight.
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SCMS_", "PYTHON"))}
    env["SCMS_DATABASE_URL"] = f"sqlite+aiosqlite:///{workdir / 'scms.db'}"
    shipped = _run(
        python,
        "-c",
        "from app.core.migrations import MIGRATIONS_DIR; print(MIGRATIONS_DIR)",
        cwd=workdir,
        env=env,
    )
    migrations = Path(shipped.strip())
    assert migrations.is_relative_to(venv), shipped  # the wheel's, not the checkout's
    assert (migrations / "script.py.mako").is_file()  # `alembic revision` needs it too
    output = _run(venv / "bin" / "scms", "migrate", cwd=workdir, env=env)
    assert "latest migration" in output

    with sqlite3.connect(workdir / "scms.db") as db:
        versions = {row[0] for row in db.execute("SELECT version_num FROM alembic_version")}
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master")}
    assert versions == set(head_revisions())
    assert {"api_keys", "contracts", "invoices"} <= tables
