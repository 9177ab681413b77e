"""Issue 15: the README's rehearsal (an application received today, activated, the clock
moved thirteen months, the renewal seen) runs as written against a served sandbox: the
shell block, with only the server's start left out and its port and database swapped."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.e2e.test_sandbox_processes import _serve, sandbox_env

__all__ = ["sandbox_env"]  # the fixture: a fresh database with SCMS_SANDBOX=true

README_DATABASE = "sqlite+aiosqlite:///./var/sandbox.db"
README_API = "http://127.0.0.1:8000"
START = f"SCMS_SANDBOX=true SCMS_DATABASE_URL={README_DATABASE} make run\n"


def _example(project_root: Path) -> str:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Rehearsing an integration: the sandbox clock") :]
    block = section[section.index("```sh\n") + 6 : section.index("```\n", 6)]
    assert block.startswith(START), block[:200]
    return block.removeprefix(START)


# .ci/run installs curl and jq, so under CI a missing tool fails the test instead.
@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")) and os.environ.get("CI") != "true",
    reason="the example uses curl and jq",
)
def test_issue_15_the_readme_rehearsal_runs_as_written(
    sandbox_env: dict[str, str], tmp_path: Path, project_root: Path
) -> None:
    script = _example(project_root)
    assert README_DATABASE in script
    assert README_API in script
    with ExitStack() as stack:
        base = _serve(sandbox_env, tmp_path / "serve.log", stack)
        script = script.replace(README_DATABASE, sandbox_env["SCMS_DATABASE_URL"])
        script = script.replace(README_API, base)
        ran = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=project_root,
            env=sandbox_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert ran.returncode == 0, ran.stderr + ran.stdout
    out = ran.stdout
    assert "contract.renewed" in out, out
    moved = json.loads(next(line for line in out.splitlines() if '"happened"' in line))
    assert moved["happened"]["renewals"] == 1
    assert moved["happened"]["billing_runs"] >= 13  # 14 when "+13 months" overflows a month end
    assert moved["offset_days"] >= 395  # thirteen months and a day
    overdue = moved["happened"]["invoices_overdue"]
    assert overdue >= 12
    assert out.rstrip().splitlines()[-1] == str(overdue)  # an invoice.overdue event each
