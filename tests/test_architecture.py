"""The layering, checked from the code itself: every module's imports (read with `ast`, lazy ones
too) against the rules of docs/architecture.md. A new import against them fails here."""

from __future__ import annotations

import ast
import graphlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Lowest first. A module may import its own unit and units of strictly lower layers, nothing else.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("bench.errors", "bench.atomic"),
    ("bench.files",),
    ("bench.problems",),
    ("bench.judge",),
    ("bench.harness",),
    ("bench.distributed",),
    ("bench.results",),
    ("bench.reports",),
    ("bench.regression", "bench.studies", "bench.estimator", "bench.history", "bench.pytest_plugin"),
    ("bench.cli",),
    ("bench.__main__",),
)
TOP_PACKAGES = ("bench", "impls")


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules(root: Path) -> dict[str, Path]:
    return {module_name(root, p): p for top in TOP_PACKAGES for p in sorted((root / top).rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules `name` imports: `from a.b import c` is a.b.c where that is a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t.split(".")[0] in TOP_PACKAGES}
    return found


def unit_of(module: str) -> str:
    """The layering unit: `bench.harness.runner` -> `bench.harness`; `impls.x` -> `impls`."""
    parts = module.split(".")
    return parts[0] if parts[0] == "impls" or len(parts) == 1 else ".".join(parts[:2])


def layer_of(unit: str) -> int | None:
    return next((i for i, units in enumerate(LAYERS) if unit in units), None)


def violations(root: Path) -> list[str]:
    modules = project_modules(root)
    graph = {name: imports_of(name, path, set(modules)) for name, path in modules.items()}
    problems = []
    for name, targets in sorted(graph.items()):
        source = unit_of(name)
        for target in sorted(targets):
            if target not in modules:
                problems.append(f"{name} imports {target}, which is not a module of the project")
                continue
            dest = unit_of(target)
            if source == "impls" and dest != "impls":
                problems.append(f"{name} imports {target}: impls knows nothing of bench")
            elif source.startswith("bench.") and dest != source and dest.startswith("bench."):
                low, high = layer_of(dest), layer_of(source)
                if low is None or high is None:
                    problems.append(f"{name} imports {target}: {source if high is None else dest} has no layer")
                elif low >= high:
                    problems.append(f"{name} imports {target}: {source} may only import lower layers than its own")
    try:
        graphlib.TopologicalSorter({k: v & set(modules) for k, v in graph.items()}).prepare()
    except graphlib.CycleError as exc:
        problems.append(f"import circle: {' -> '.join(exc.args[1])}")
    return problems


def test_the_project_keeps_its_layers_and_has_no_import_circles():
    assert violations(ROOT) == []


def test_every_bench_unit_has_a_layer():
    units = {unit_of(m) for m in project_modules(ROOT) if m.startswith("bench.")}
    assert {u for u in units if layer_of(u) is None} == set()


def _copy_tree(tmp_path: Path) -> Path:
    for top in TOP_PACKAGES:
        for path in (ROOT / top).rglob("*.py"):
            target = tmp_path / path.relative_to(ROOT)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("bad_modules", "complaint"),
    [
        ({"bench/harness/bad.py": "from bench.reports.format import human_time\n"}, "may only import lower layers"),
        ({"bench/judge/bad.py": "def late():\n    import bench.cli\n"}, "may only import lower layers"),
        ({"impls/bad.py": "from bench.errors import InputError\n"}, "impls knows nothing of bench"),
        ({"bench/results/a.py": "from bench.results import b\n", "bench/results/b.py": "import bench.results.a\n"},
         "import circle"),
        ({"bench/plugins/bad.py": "import bench.errors\n"}, "has no layer"),
    ],
)  # fmt: skip
def test_an_import_against_the_rules_is_caught(tmp_path, bad_modules, complaint):
    tree = _copy_tree(tmp_path)
    assert violations(tree) == []  # the copy is clean: what follows is the bad modules' doing
    for where, code in bad_modules.items():
        (tree / where).parent.mkdir(parents=True, exist_ok=True)
        (tree / where).write_text(code)
    found = violations(tree)
    assert len(found) == 1 and complaint in found[0], found


# `fcntl` and `resource` are Unix only. Our code must never need them: blocked outright for the
# commands' start (parsing builds every command), and for imports made by bench/impls themselves
# while a command runs (third-party packages may use their own platform backends).
BLOCKER = textwrap.dedent(
    """
    import builtins, json, sys
    UNIX_ONLY = ("fcntl", "resource")
    if sys.argv[1] == "strict":
        for name in UNIX_ONLY:
            sys.modules[name] = None
    real_import = builtins.__import__
    def guarded(name, globals=None, locals=None, fromlist=(), level=0):
        importer = (globals or {}).get("__name__", "")
        if name.split(".")[0] in UNIX_ONLY and importer.split(".")[0] in ("bench", "impls"):
            raise ImportError(f"{importer} imports {name}, which only Unix has")
        return real_import(name, globals, locals, fromlist, level)
    builtins.__import__ = guarded
    from bench.cli import main
    for argv in json.loads(sys.argv[2]):
        try:
            status = main(argv)
        except SystemExit as exc:  # --help
            status = exc.code
        if status != 0:
            sys.exit(f"{argv}: exit {status}")
    """
)
COMMANDS = ["run", "sweep", "compare", "ab", "history", "conditioning", "stream", "scale", "list", "predict"]


def _without_unix_modules(mode: str, commands: list[list[str]], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", BLOCKER, mode, json.dumps(commands)], capture_output=True,
                          text=True, cwd=cwd, timeout=300)  # fmt: skip


def test_every_command_starts_without_fcntl_or_resource(tmp_path):
    done = _without_unix_modules("strict", [["--help"], *([c, "--help"] for c in COMMANDS), ["list"]], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]


def test_the_blocker_would_notice_a_use_of_fcntl(tmp_path):
    script = BLOCKER.replace("from bench.cli import main", "import fcntl")
    done = subprocess.run([sys.executable, "-c", script, "strict", "[]"], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode != 0 and "fcntl" in done.stderr


def test_commands_that_lock_and_measure_memory_run_without_our_code_touching_them(tmp_path):
    run = ["run", "--dataset", "crop-yields-5", "--impl", "normal-equation", "--dtype", "float64", "--no-plots",
           "--no-roofline", "--rounds", "1", "--min-time", "0", "--out", str(tmp_path / "run")]  # fmt: skip
    stream = ["stream", "--n", "2000", "--d", "2", "--chunk-rows", "500", "--out", str(tmp_path / "stream")]
    done = _without_unix_modules("ours", [run, stream], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "run" / "results.csv").is_file() and (tmp_path / "stream" / "stream.csv").is_file()
