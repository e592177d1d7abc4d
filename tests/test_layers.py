"""Layering rules, checked on the source with `ast` (nothing is imported).

- `engine` and `sla` never import `api`; `engine` never imports `sla`;
- only `engine/runtime/` imports SpiffWorkflow (tests may, to inspect it);
- every module of `engine`, `api` and `sla` has a module docstring.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SKIP_DIRS = {"node_modules", "__pycache__", "build", "dist"}
PACKAGES = ("engine", "api", "sla")


def python_files() -> list[Path]:
    def walk(folder: Path) -> Iterator[Path]:
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                if (
                    entry.name.startswith(".")
                    or entry.name in SKIP_DIRS
                    or entry.name.endswith(".egg-info")
                ):
                    continue
                yield from walk(entry)
            elif entry.suffix == ".py":
                yield entry

    return list(walk(ROOT))


FILES = python_files()


@dataclass(frozen=True)
class Import:
    path: Path
    line: int
    module: str  # absolute dotted name

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}: imports {self.module}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an ImportFrom names (relative imports resolved against `path`)."""
    if not node.level:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def imports_of(path: Path) -> list[Import]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [Import(path, node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = resolve(path, node)
            found.append(Import(path, node.lineno, base))
            # `from . import api` / `from engine import runtime` name modules too.
            found += [
                Import(path, node.lineno, f"{base}.{alias.name}" if base else alias.name)
                for alias in node.names
                if alias.name != "*"
            ]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            first = node.args[0]
            if (
                name in ("import_module", "__import__")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                found.append(Import(path, node.lineno, first.value))
    return found


def top_package(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def names(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(sources: tuple[str, ...], forbidden: str) -> list[str]:
    return [
        str(imp)
        for path in FILES
        if top_package(path) in sources
        for imp in imports_of(path)
        if names(imp.module, forbidden)
    ]


def report(rule: str, offenders: list[str]) -> str:
    return f"{rule}; offending imports:\n  " + "\n  ".join(sorted(set(offenders)))


def test_the_walk_finds_the_packages() -> None:
    found = {top_package(p) for p in FILES}
    assert {"engine", "api", "sla", "tests"} <= found
    assert ROOT / "engine" / "runtime" / "workflow.py" in FILES
    assert not [p for p in FILES if ".venv" in p.parts or "node_modules" in p.parts]


@pytest.mark.parametrize(
    ("sources", "forbidden"),
    [
        (("engine",), "api"),
        (("sla",), "api"),
        (("engine",), "sla"),
    ],
)
def test_lower_layers_do_not_import_upper_layers(sources: tuple[str, ...], forbidden: str) -> None:
    offenders = violations(sources, forbidden)
    assert not offenders, report(f"{'/'.join(sources)} must not import {forbidden}", offenders)


def test_only_engine_runtime_imports_spiffworkflow() -> None:
    runtime = ROOT / "engine" / "runtime"
    offenders = [
        str(imp)
        for path in FILES
        if top_package(path) != "tests" and runtime not in path.parents
        for imp in imports_of(path)
        if names(imp.module, "SpiffWorkflow")
    ]
    assert not offenders, report("only engine/runtime/ may import SpiffWorkflow", offenders)


def test_engine_runtime_does_import_spiffworkflow() -> None:
    """Guards the check above: it must see the imports that are allowed."""
    runtime_files = [p for p in FILES if (ROOT / "engine" / "runtime") in p.parents]
    assert any(
        names(imp.module, "SpiffWorkflow") for path in runtime_files for imp in imports_of(path)
    )


def test_every_module_has_a_docstring() -> None:
    missing = []
    for path in FILES:
        if top_package(path) not in PACKAGES:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstring = ast.get_docstring(tree)
        if not docstring or not docstring.strip():
            missing.append(f"{path.relative_to(ROOT)}:1: no module docstring")
    assert not missing, (
        "every module under engine/, api/, sla/ needs a docstring:\n  " + "\n  ".join(missing)
    )


def test_relative_imports_are_resolved() -> None:
    """The resolver used above: `from ..x import y` inside engine/runtime/ names engine.x."""
    node = ast.parse("from ..seed import loader\nfrom . import workflow\n").body
    path = ROOT / "engine" / "runtime" / "compiler.py"
    assert isinstance(node[0], ast.ImportFrom) and isinstance(node[1], ast.ImportFrom)
    assert resolve(path, node[0]) == "engine.seed"
    assert resolve(path, node[1]) == "engine.runtime"
    init = ROOT / "engine" / "runtime" / "__init__.py"
    assert resolve(init, node[1]) == "engine.runtime"
