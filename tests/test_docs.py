"""The project's own docs (issue 9 §8): every rule id the code or the tests name is
described in docs/rules.md, and the README and docs point at nothing outside the
repository."""

from __future__ import annotations

import re
from pathlib import Path

RULE_ID = re.compile(r"\bR-[A-Z]+-\d+\b")
DESCRIBED = re.compile(r"^\*\*(R-[A-Z]+-\d+) — ", re.MULTILINE)
OUTSIDE = ("../shared", "shared/spec", "/work/")


def _named_in(root: Path, *folders: str) -> set[str]:
    found: set[str] = set()
    for folder in folders:
        for path in (root / folder).rglob("*.py"):
            found |= set(RULE_ID.findall(path.read_text(encoding="utf-8")))
    return found


def test_every_rule_the_code_or_tests_name_is_described_in_docs_rules_issue_9_s8(
    project_root: Path,
) -> None:
    rules = (project_root / "docs" / "rules.md").read_text(encoding="utf-8")
    described = DESCRIBED.findall(rules)
    assert len(described) == len(set(described)), "a rule is described twice"
    named = _named_in(project_root, "app", "tests", "migrations")
    assert len(named) >= 35  # the whole domain: catalogue, lifecycle, term, charges, ...
    missing = sorted(named - set(described))
    assert not missing, f"named in the code or tests, not described in docs/rules.md: {missing}"
    unknown = sorted(set(RULE_ID.findall(rules)) - named)
    assert not unknown, f"docs/rules.md names rules nothing implements or tests: {unknown}"


def test_readme_and_docs_point_at_nothing_outside_the_repository_issue_9_s8(
    project_root: Path,
) -> None:
    documents = [project_root / "README.md", *sorted((project_root / "docs").glob("*.md"))]
    for document in documents:
        text = document.read_text(encoding="utf-8")
        for outside in OUTSIDE:
            assert outside not in text, f"{document.name} points outside the repo: {outside}"
        # Relative links lead to files of the repository.
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (document.parent / target).exists(), f"{document.name}: broken link {target}"
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    assert "(docs/rules.md)" in readme
    assert "(docs/decisions.md)" in readme
