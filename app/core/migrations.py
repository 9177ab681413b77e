"""Alembic, driven from code: the CLI, the app's readiness check and the tests use it.

Migrations are the only way the schema is made. They ship inside the package
(``app/migrations``, package data) and the Alembic configuration is built here, so an
installed wheel migrates without a checkout or an ``alembic.ini`` (issue 9 §8). The
repository's ``alembic.ini`` points at the same folder for developers' ``alembic`` CLI.

Alembic (with Mako, about 10 MiB resident) is imported by the functions that run it, and
the readiness check's heads are read without it: a serving process need not carry it
(issue 13 §3 bounds an exporting process at 100 MB).
"""

from __future__ import annotations

import ast
import threading
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parents[1] / "migrations"
# Alembic keeps its running context in module globals: one command at a time per process.
_ALEMBIC = threading.Lock()


def alembic_config(database_url: str) -> Config:
    from alembic.config import Config  # on first use (the module's docstring)

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # As in alembic.ini: files named YYYY-MM-DD-HHMM_slug.py, sorted by creation time.
    config.set_main_option(
        "file_template", "%%(year)d-%%(month).2d-%%(day).2d-%%(hour).2d%%(minute).2d_%%(slug)s"
    )
    config.set_main_option("timezone", "UTC")
    config.set_main_option("path_separator", "os")
    # ConfigParser interpolation: a literal % in a password must be doubled.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations. Blocking: call from a thread when an event loop is running.

    Safe to call from several processes at once: on PostgreSQL the migration connection
    takes an advisory lock first (app/migrations/env.py), so replicas starting together
    migrate one after the other and the later ones find the schema at head.
    """
    from alembic import command

    with _ALEMBIC:
        command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    from alembic import command

    with _ALEMBIC:
        command.downgrade(alembic_config(database_url), revision)


@lru_cache
def head_revisions() -> frozenset[str]:
    """The revisions no other revision follows, read from the migration files' source.

    Not through Alembic's ScriptDirectory: that imports Alembic and executes every
    migration module, about 10 MiB for the readiness check a probe calls every few
    seconds, in every serving process. The files' ``revision`` and ``down_revision``
    assignments are literals (Alembic's own template); tests/test_migrations.py checks the
    answer against Alembic's."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if not isinstance(target, ast.Name):
                continue
            if target.id == "revision":
                revisions.add(ast.literal_eval(value))
            elif target.id == "down_revision":
                before = ast.literal_eval(value)
                followed.update([before] if isinstance(before, str) else before or ())
    return frozenset(revisions - followed)
