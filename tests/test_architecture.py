"""planner/ stays a pure library with one-way dependencies (STYLE rules 7, 12; shared/DESIGN.md §1).

No Streamlit or plotly import, no I/O at import time, at most 12 top-level entries, every subpackage
importing only what the table below allows, and no import cycle between modules. Imports inside
functions count, and so do module names written as strings (importlib, lazily loaded subcommands).
"""
import ast
import re
from pathlib import Path

PLANNER = Path(__file__).resolve().parent.parent / "planner"
FORBIDDEN = {"streamlit", "plotly"}
IO_CALLS = {"open", "read_text", "read_csv", "get", "post", "urlopen", "connect", "load", "gpus", "models"}
ALLOWED = {  # subpackage -> subpackages it may import (cli -> features -> core)
    "core": {"core"},
    "search": {"core", "search"},
    "importers": {"core", "importers"},
    "probe": {"core", "probe"},
    "share": {"core", "importers", "share"},
    "report": {"core", "search", "share", "report"},
    "cli": {"core", "search", "importers", "probe", "share", "report", "cli"},
    "": {"core", "search", "cli"},  # planner/__init__.py and __main__.py: the public API and the entry point
}
MODULE_STRING = re.compile(r"^planner(\.[a-z_]+)+$")


def modules() -> list[Path]:
    return sorted(p for p in PLANNER.rglob("*.py") if "__pycache__" not in p.parts)


def dotted(path: Path) -> str:
    parts = ["planner", *path.relative_to(PLANNER).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


KNOWN = {dotted(p) for p in modules()}


def _resolve(name: str) -> str | None:
    """The planner module a dotted name refers to (a module, or a package whose attribute was imported)."""
    while name and name not in KNOWN:
        name = name.rpartition(".")[0]
    return name or None


def _type_only(tree: ast.AST) -> set[int]:
    """Nodes under `if TYPE_CHECKING:`: annotations for the type checker, never imported at run time."""
    return {id(n) for block in ast.walk(tree) if isinstance(block, ast.If) and getattr(block.test, "id", "") == "TYPE_CHECKING"
            for stmt in block.body for n in ast.walk(stmt)}


def imports_in(source: str, here: str, is_package: bool, runtime_only: bool = False) -> set[str]:
    """Planner modules a module's source imports anywhere in its body, including by string."""
    package = here if is_package else here.rpartition(".")[0]
    found = set()
    tree = ast.parse(source)
    skip = _type_only(tree) if runtime_only else set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{a.name}" for a in node.names]
            if not here.startswith(base + "."):  # a package's own parents are already loaded
                names.append(base)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and MODULE_STRING.match(node.value):
            names = [node.value]
        for name in names:
            target = _resolve(name) if name.startswith("planner") else None
            if target and target != here:
                found.add(target)
    return found


def imports_of(path: Path, runtime_only: bool = False) -> set[str]:
    return imports_in(path.read_text(), dotted(path), path.name == "__init__.py", runtime_only)


def subpackage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and (PLANNER / parts[1]).is_dir() else ""


def test_top_level_has_at_most_12_entries():
    entries = [p for p in PLANNER.iterdir() if not p.name.startswith(("__", "."))]
    assert len(entries) <= 12, sorted(p.name for p in entries)


def test_dependencies_point_one_way():
    wrong = []
    for path in modules():
        me = subpackage(dotted(path))
        for target in imports_of(path):
            if subpackage(target) not in ALLOWED[me]:
                wrong.append(f"{dotted(path)} -> {target}")
    assert not wrong, wrong


def test_no_import_cycle():
    graph = {dotted(p): imports_of(p, runtime_only=True) for p in modules()}
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, cycles


def test_the_checker_sees_lazy_relative_and_string_imports():
    source = ('from ..core import catalog\nfrom . import plan\n'
              'def f():\n    from planner.cli.main import main\nMODULES = {"pdf": "planner.report.pdf"}\n')
    found = imports_in(source, "planner.report.build", is_package=False)
    assert found == {"planner.core", "planner.core.catalog", "planner.report.plan", "planner.cli.main", "planner.report.pdf"}
    assert subpackage("planner.cli.main") == "cli" not in ALLOWED["report"]
    typed = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .deployment import Deployment\n"
    assert imports_in(typed, "planner.core.memory", False) == {"planner.core.deployment"}
    assert imports_in(typed, "planner.core.memory", False, runtime_only=True) == set()


def test_no_ui_imports():
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


def test_no_calls_at_import_time():
    for path in modules():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.Expr, ast.Assign, ast.AnnAssign)) and isinstance(getattr(node, "value", None), ast.Call):
                func = node.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert name not in IO_CALLS, f"{path.name}:{node.lineno} calls {name}() at import"


def test_import_reads_no_files(monkeypatch):
    import builtins
    import importlib
    import sys
    opened = []
    real_open = builtins.open
    monkeypatch.setattr(builtins, "open", lambda *a, **k: opened.append(a[0]) or real_open(*a, **k))
    for name in [m for m in sys.modules if m == "planner" or m.startswith("planner.")]:
        monkeypatch.delitem(sys.modules, name)
    importlib.import_module("planner")
    assert not [p for p in opened if str(p).endswith((".csv", ".json"))]


def test_pages_and_ui_never_import_the_cli():
    root = PLANNER.parent
    for path in [*sorted((root / "app_pages").glob("*.py")), *sorted((root / "ui").glob("*.py")), root / "app.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("planner.cli"):
                raise AssertionError(f"{path.name} imports {node.module}")


def _engine_literals(node: ast.AST, ids: set[str]) -> bool:
    if isinstance(node, ast.Constant):
        return node.value in ids
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_engine_literals(e, ids) for e in node.elts)
    return False


def test_engine_rules_live_in_the_engine_profiles():
    """No engine-name comparison and no second list of engine ids outside planner/core/engines.py."""
    from planner.core.engines import ENGINE_IDS
    ids = set(ENGINE_IDS)
    found = []
    for path in modules():
        if path.name == "engines.py" and path.parent.name == "core":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare) and any(_engine_literals(x, ids) for x in [node.left, *node.comparators]):
                found.append(f"{dotted(path)}:{node.lineno} compares an engine name")
            if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and sum(_engine_literals(e, ids) for e in node.elts) >= 2:
                found.append(f"{dotted(path)}:{node.lineno} lists engine ids")
    assert not found, found
