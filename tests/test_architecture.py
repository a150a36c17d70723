"""planner/ stays a pure library: no Streamlit or plotly import, no I/O at import time (STYLE rules 7, 12)."""
import ast
from pathlib import Path

PLANNER = Path(__file__).resolve().parent.parent / "planner"
FORBIDDEN = {"streamlit", "plotly"}
IO_CALLS = {"open", "read_text", "read_csv", "get", "post", "urlopen", "connect", "load", "gpus", "models"}


def modules():
    return sorted(PLANNER.glob("*.py"))


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
