"""issue 10: the packages of app/ depend on each other one way, downwards.

The layers, from the ground up, as the README's "Layout" section lists them. A module may
import the modules of its own package and those of any package of a LOWER layer: never a
package of its own layer (no sideways import), never one above. Every import is read from
the source with ``ast``: at module level, inside functions, under ``if TYPE_CHECKING``,
absolute or relative. A failure names each module and what it imports.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"pricing"}),
    frozenset({"core"}),
    frozenset({"audit", "auth"}),
    frozenset({"events"}),
    frozenset({"audit_events", "charges", "customers", "health", "price_books", "webhooks"}),
    frozenset({"api_keys", "quotes"}),
    frozenset({"contracts"}),
    frozenset({"invoices"}),
    frozenset({"changes", "einvoice", "endings", "onboarding", "soc_reports", "stats"}),
    frozenset({"sandbox"}),
    frozenset({"main", "models", "worker"}),
    frozenset({"cli", "migrations"}),
)
LAYER_OF = {package: n for n, layer in enumerate(LAYERS, start=1) for package in layer}
README_LAYER = re.compile(r"^(\d+)\. ((?:`[a-z_]+`(?:, )?)+)", re.MULTILINE)


def module_name(app_dir: Path, path: Path) -> str:
    parts = ("app", *path.relative_to(app_dir).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_of(module: str) -> str | None:
    """``app.contracts.models`` → ``contracts``; ``app.main`` → ``main``; ``app`` → None."""
    parts = module.split(".")
    return parts[1] if parts[0] == "app" and len(parts) > 1 else None


def imported_modules(source: str, module: str, *, is_package: bool) -> list[str]:
    """Every module of this project that ``source`` imports, wherever the import stands."""
    found: list[str] = []
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[: len(here) - node.level + 1]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            # ``from app import contracts`` imports the package it names.
            found += [f"{base}.{a.name}" for a in node.names] if base == "app" else [base]
    return [name for name in found if name == "app" or name.startswith("app.")]


def upward_imports(app_dir: Path) -> list[str]:
    broken: list[str] = []
    for path in sorted(app_dir.rglob("*.py")):
        module = module_name(app_dir, path)
        source = path.read_text(encoding="utf-8")
        own = package_of(module)
        if own is None:
            continue
        for target in imported_modules(source, module, is_package=path.name == "__init__.py"):
            theirs = package_of(target)
            if theirs is None or theirs == own or theirs not in LAYER_OF:
                continue
            if LAYER_OF[theirs] >= LAYER_OF[own]:
                way = "sideways" if LAYER_OF[theirs] == LAYER_OF[own] else "upwards"
                broken.append(
                    f"{module} imports {target}: {own} (layer {LAYER_OF[own]}) may not "
                    f"import {theirs} (layer {LAYER_OF[theirs]}), {way}"
                )
    return broken


def test_issue_10_every_package_of_app_has_a_layer(project_root: Path) -> None:
    app_dir = project_root / "app"
    packages = {p.name for p in app_dir.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    packages |= {p.stem for p in app_dir.glob("*.py") if p.stem != "__init__"}
    missing = sorted(packages - set(LAYER_OF))
    assert not missing, (
        f"app/{', app/'.join(missing)} stands in no layer: add it to LAYERS here and to "
        "the layer list of the README's Layout section"
    )
    assert not set(LAYER_OF) - packages, "a layer names a package app/ does not have"


def test_issue_10_imports_run_downwards_only(project_root: Path) -> None:
    broken = upward_imports(project_root / "app")
    assert not broken, "imports against the layer order:\n" + "\n".join(broken)


@pytest.mark.parametrize(
    ("source", "module", "is_package"),
    [
        ("from app.invoices.models import Invoice", "app.contracts.models", False),
        ("def f():\n    from app.endings import rolling", "app.contracts.read_model", False),
        (
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import app.changes.router",
            "app.contracts.states",
            False,
        ),
        ("from app import invoices", "app.charges.service", False),
        ("from ...invoices import months", "app.contracts.sub.x", False),
        ("from app.endings import rolling", "app.changes", True),
    ],
)
def test_issue_10_the_check_sees_every_kind_of_import(
    tmp_path: Path, source: str, module: str, is_package: bool
) -> None:
    """The check is not blind: an upward or sideways import of each form is caught."""
    parts = module.split(".")[1:]
    path = tmp_path.joinpath(*parts, "__init__.py") if is_package else tmp_path.joinpath(*parts)
    path = path if is_package else path.with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source + "\n", encoding="utf-8")
    (broken,) = upward_imports(tmp_path)
    assert broken.startswith(f"{module} imports app."), broken


def test_issue_10_the_readme_lists_the_layers_as_the_check_holds_them(
    project_root: Path,
) -> None:
    readme = (project_root / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("\n## ", 1)[0]
    listed = [
        (int(n), frozenset(re.findall(r"`([a-z_]+)`", names)))
        for n, names in README_LAYER.findall(layout)
    ]
    assert listed == list(enumerate(LAYERS, start=1))
