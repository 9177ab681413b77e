"""app/pricing is pure: standard library only, and no clock."""

import ast
from pathlib import Path

import app.pricing

PACKAGE = Path(app.pricing.__file__).parent
ALLOWED = {
    "__future__",
    "bisect",
    "calendar",
    "collections",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "itertools",
    "math",
    "types",
    "typing",
    "app",
}
CLOCK_CALLS = {"today", "now", "utcnow", "time", "perf_counter", "monotonic"}


def _modules() -> list[Path]:
    return sorted(PACKAGE.glob("*.py"))


def test_pricing_imports_only_the_standard_library_and_itself():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                root = name.split(".")[0]
                assert root in ALLOWED, f"{path.name} imports {name}"
                if root == "app":
                    assert name.startswith("app.pricing"), f"{path.name} imports {name}"


def test_pricing_never_reads_the_clock():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in CLOCK_CALLS, f"{path.name} calls {node.func.attr}()"


def test_pricing_never_uses_floats():
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant):
                assert not isinstance(node.value, float), f"{path.name} has a float literal"
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id != "float", f"{path.name} calls float()"
            if isinstance(node, ast.BinOp):
                assert not isinstance(node.op, ast.Div), f"{path.name} divides with /"
