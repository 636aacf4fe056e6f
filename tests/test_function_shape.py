"""Every function in bench/ and impls/ is small enough to read at once: at most MAX_PARAMETERS
parameters and MAX_LINES lines (read with `ast`). The one exception is a scikit-learn estimator's
`__init__`, which must list every option as a parameter (`get_params` reads its signature)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_PARAMETERS = 6  # past this a call site is a row of positional values; a dataclass says what they are
MAX_LINES = 60  # one screen


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Parameters a caller passes: self and cls are not counted, *args and **kwargs are."""
    a = node.args
    named = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs) if x.arg not in ("self", "cls")]
    return len(named) + (a.vararg is not None) + (a.kwarg is not None)


def _estimator_inits(tree: ast.Module) -> set[ast.AST]:
    """The `__init__`s of classes derived from scikit-learn's BaseEstimator."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and any(getattr(b, "id", getattr(b, "attr", "")) == "BaseEstimator"
                                                  for b in node.bases):  # fmt: skip
            found |= {f for f in node.body if isinstance(f, ast.FunctionDef) and f.name == "__init__"}
    return found


def oversized(root: Path) -> list[str]:
    """`path:line name (why)` for every function over either limit."""
    problems = []
    for path in sorted(p for top in ("bench", "impls") for p in (root / top).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        exempt = _estimator_inits(tree)
        for node in ast.walk(tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or node in exempt:
                continue
            where = f"{path.relative_to(root)}:{node.lineno} {node.name}"
            if _parameters(node) > MAX_PARAMETERS:
                problems.append(f"{where} ({_parameters(node)} parameters)")
            if node.end_lineno - node.lineno + 1 > MAX_LINES:
                problems.append(f"{where} ({node.end_lineno - node.lineno + 1} lines)")
    return problems


def test_no_function_has_more_than_six_parameters_or_sixty_lines():
    assert oversized(ROOT) == []


def test_the_check_finds_a_long_function_and_a_wide_one(tmp_path):
    (tmp_path / "bench").mkdir()
    (tmp_path / "impls").mkdir()
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    (tmp_path / "bench" / "m.py").write_text(f"def long():\n{body}\n\n\ndef wide(a, b, c, d, e, f, *, g):\n    pass\n")
    (tmp_path / "impls" / "e.py").write_text(
        "class E(BaseEstimator):\n    def __init__(self, a, b, c, d, e, f, g):\n        pass\n"
    )
    assert oversized(tmp_path) == [
        f"bench/m.py:1 long ({MAX_LINES + 1} lines)",
        f"bench/m.py:{MAX_LINES + 4} wide (7 parameters)",
    ]
