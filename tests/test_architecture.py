"""The package's shape, read from the source (ast, nothing executed): the library never imports the CLI, the
top-level parts of the package import each other without circles, and `--version` starts without the engines."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "crmclean"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield _module_name(path), path


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is loaded: not inside functions, not under `if TYPE_CHECKING:`."""
    stack: list[ast.stmt] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _is_type_checking(node.test):
                stack.extend(node.body)
            stack.extend(node.orelse)
        elif isinstance(node, ast.Try):
            stack.extend(node.body + node.orelse + node.finalbody + [s for h in node.handlers for s in h.body])
        elif isinstance(node, ast.With | ast.ClassDef):
            stack.extend(node.body)


def _all_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """Absolute dotted names a statement imports (``from a import b`` gives ``a.b``: b may be a module)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = module.split(".")
        if not is_package:
            base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]


def _part(name: str) -> str | None:
    """The node of the package graph a module belongs to: ``crmclean.connectors.files`` -> ``crmclean.connectors``."""
    parts = name.split(".")
    if parts[0] != "crmclean" or len(parts) < 2:
        return None  # outside the package, or the root package (it only holds the version)
    return ".".join(parts[:2])


def _existing_parts() -> set[str]:
    return {p for name, _ in _modules() if (p := _part(name))}


def _import_graph() -> dict[str, set[str]]:
    parts = _existing_parts()
    graph: dict[str, set[str]] = {p: set() for p in parts}
    for name, path in _modules():
        source = _part(name)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _module_level_imports(tree):
            for target in _targets(node, name, path.name == "__init__.py"):
                dest = _part(target)
                if dest is not None and dest in parts and dest != source:
                    graph[source].add(dest)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_nothing_outside_the_cli_imports_the_cli() -> None:
    offenders = []
    for name, path in _modules():
        if name == "crmclean.cli" or name.startswith("crmclean.cli.") or name == "crmclean.__main__":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in _all_imports(tree):  # even a lazy import inside a function is a library reaching up
            for target in _targets(node, name, path.name == "__init__.py"):
                if target == "crmclean.cli" or target.startswith("crmclean.cli."):
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} imports {target}")
    assert offenders == []


def test_no_import_circle_between_parts_of_the_package() -> None:
    graph = _import_graph()
    cycles = _cycles(graph)
    detail = [
        f"{' <-> '.join(c)}: " + ", ".join(f"{a} -> {b}" for a in c for b in sorted(graph[a]) if b in c)
        for c in cycles
    ]
    assert detail == []


def test_the_graph_walker_sees_circles_and_skips_lazy_imports(tmp_path: Path) -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\n"
        "import crmclean.a\n"
        "if TYPE_CHECKING:\n    import crmclean.b\n"
        "def f():\n    import crmclean.c\n"
        "try:\n    from crmclean import d\nexcept ImportError:\n    pass\n"
    )
    seen = {t for n in _module_level_imports(tree) for t in _targets(n, "crmclean.x", False)}
    assert {"crmclean.a", "crmclean.d"} <= seen
    assert "crmclean.b" not in seen and "crmclean.c" not in seen
    assert _targets(ast.parse("from ..table import ROW_ID").body[0], "crmclean.connectors.files", False) == [  # type: ignore[arg-type]
        "crmclean.table", "crmclean.table.ROW_ID"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def _imported_at_start(*args: str) -> set[str]:
    done = subprocess.run([sys.executable, "-X", "importtime", "-m", "crmclean", *args], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


@pytest.mark.parametrize("args", [("--version",), ("--help",), ("rules", "list"), ("rules", "explain", "PHONE001"),
                                  ("rules", "explain", "phone.invalid", "--json")])
def test_start_up_imports_no_engine(args: tuple[str, ...]) -> None:
    """Neither starting nor reading the rule catalogue imports an engine: the rule modules read polars and
    rapidfuzz through crmclean._lazy, on first use."""
    imported = _imported_at_start(*args)
    assert imported, "no -X importtime output"
    engines = sorted(n for n in imported if n.split(".")[0] in ("polars", "duckdb", "rapidfuzz", "numpy"))
    assert engines == []
