"""Property-based fuzzing of the command-line contract, in process (`bench.cli.main(argv)`):
generated bad CSVs, option strings, JSON files and folder states. Whatever the input:
- the exit status is one the contract names, and for a run it is the table's own verdict
  (1 exactly when a case failed, else 0), or 2 for bad input;
- exit 2 prints exactly one line on stderr, never a traceback, and leaves the folder as it was;
- otherwise the folder is consistent: every row whole, every `ok` case's model on disk.

Budget: a few dozen examples per property (each a real command on 5-20 rows), no deadline."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.cli import main
from bench.harness.cases import model_file_name
from bench.results.validation import validated_rows

FAST = ["--dtype", "float64", "--device", "cpu", "--no-plots", "--no-roofline", "--rounds", "1", "--min-time", "0",
        "--warmup", "0"]  # fmt: skip
BUDGET = settings(max_examples=25, deadline=None, derandomize=True, database=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])  # fmt: skip
_counter = itertools.count()


def call(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(argv)
    return code, err.getvalue()


def snapshot(folder: Path) -> dict[str, bytes]:
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name != ".lock"}  # fmt: skip


def assert_contract(code: int, err: str, out: Path, before: dict[str, bytes]) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("linreg-bench: error: "), err
        assert snapshot(out) == before, err
        return
    assert_consistent(out, code)


def assert_consistent(out: Path, code: int) -> None:
    rows, dropped = validated_rows(out / "results.csv")
    assert dropped == [] and rows
    frame = pd.DataFrame(rows)
    for row in rows:
        if row["status"] == "ok":
            assert (out / "models" / model_file_name(row["impl"], row["device"], row["dtype"])).is_file()
    assert code == int(frame["status"].isin(["not-recovered", "diverged", "error"]).any())


def fresh(tmp_path: Path) -> Path:
    folder = tmp_path / f"example-{next(_counter)}"
    folder.mkdir()
    return folder


CELLS = st.one_of(
    st.integers(-1000, 1000).map(str),
    st.floats(allow_nan=True, allow_infinity=True, width=64).map(repr),
    st.sampled_from(
        ["", " ", "nan", "NaN", "inf", "-inf", "1e400", "abc", "1,5", '"3"', "0x10", "\x00", "é", "1e-320"]
    ),
)
NAMES = st.sampled_from(["x", "y", "z", "w", "", " y", "y ", "x.1", "\ufeffx", "日本"])


@st.composite
def csv_texts(draw) -> tuple[str, str]:
    header = draw(st.lists(NAMES, min_size=1, max_size=4))
    width = len(header)
    rows = draw(st.lists(st.lists(CELLS, min_size=max(0, width - 1), max_size=width + 1), min_size=0, max_size=12))
    separator = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    lines = [separator.join(header), *(separator.join(r) for r in rows)]
    target = draw(st.sampled_from([*header, "y", "missing"]))
    return "\n".join(lines) + draw(st.sampled_from(["\n", "", "\r\n"])), target


@BUDGET
@given(data=csv_texts())
def test_fuzz_run_with_generated_csvs(tmp_path, data):
    text, target = data
    folder = fresh(tmp_path)
    csv = folder / "data.csv"
    csv.write_text(text, encoding="utf-8", errors="surrogatepass")
    out = folder / "out"
    code, err = call(["run", "--csv", str(csv), "--target", target, "--impl", "normal-equation", *FAST,
                      "--out", str(out)])  # fmt: skip
    assert_contract(code, err, out, {})


OPTION_VALUES = st.sampled_from(["abc", "-1", "0", "nan", "inf", "1e12", "true", "{}", "[1]", "", "3", "0.1", "2",
                                 "sgd", "adam", "lu", "{\"momentum\": 0.9}", "1e-3", "9" * 30])  # fmt: skip
OPTION_KEYS = st.sampled_from(["lr", "epochs", "batch_size", "seed", "solver", "optimizer", "init", "init_std",
                               "fit_intercept", "momentum", "loader", "nope", ""])  # fmt: skip
IMPL_NAMES = st.sampled_from(["manual-gradient", "nn-linear", "sklearn", "normal-equation", "nope", ""])


@st.composite
def option_argvs(draw) -> list[str]:
    specs = []
    for _ in range(draw(st.integers(1, 2))):
        name = draw(IMPL_NAMES)
        items = draw(st.lists(st.tuples(OPTION_KEYS, OPTION_VALUES), max_size=2))
        specs += ["--impl", name + (":" + ",".join(f"{k}={v}" for k, v in items) if items else "")]
    flag_names = st.sampled_from(
        ["--epochs", "--lr", "--batch-size", "--rounds", "--threads", "--min-time", "--warmup"]
    )
    flags = draw(st.lists(st.tuples(flag_names, OPTION_VALUES), max_size=2))
    return specs + [x for flag in flags for x in flag]


@BUDGET
@given(argv=option_argvs())
def test_fuzz_run_with_generated_option_strings(tmp_path, argv):
    out = fresh(tmp_path) / "out"
    code, err = call(["run", "--dataset", "crop-yields-5", *FAST, *argv, "--out", str(out)])
    assert_contract(code, err, out, {})


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=True) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


def benchmark_document(median, data, rounds) -> dict:
    return {"machine_info": {"cpu": "x"}, "commit_info": {"id": "abc"},
            "benchmarks": [{"name": "test_fit[sklearn]", "stats": {"median": median, "iqr": 0.01, "rounds": rounds,
                                                                   "data": data},
                            "extra_info": {"impl": "sklearn", "device": "cpu", "dtype": "float32",
                                           "dataset": "d2l"}}]}  # fmt: skip


GOOD_TIMES = [1.0 + i / 100 for i in range(30)]
DOCUMENTS = st.one_of(
    JSON_VALUES,
    st.builds(benchmark_document, JSON_VALUES, st.one_of(JSON_VALUES, st.just(GOOD_TIMES)), JSON_VALUES),
    st.dictionaries(st.sampled_from(["benchmarks", "machine_info", "commit_info"]), JSON_VALUES, max_size=3),
)


@BUDGET
@given(document=DOCUMENTS, gate=st.booleans())
def test_fuzz_compare_with_generated_json(tmp_path, document, gate):
    folder = fresh(tmp_path)
    good = folder / "good.json"
    good.write_text(json.dumps(benchmark_document(1.05, GOOD_TIMES, 30)))
    bad = folder / "bad.json"
    bad.write_text(json.dumps(document))
    out = folder / "cmp"
    code, err = call(["compare", str(good), str(bad), *(["--fail-on-regression"] if gate else []), "--out", str(out)])
    assert "Traceback" not in err and code in ((0, 1, 2) if gate else (0, 2)), (code, err)
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("linreg-bench: error: ") and not out.exists(), err


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("fuzz") / "run"
    code, err = call(["run", "--dataset", "crop-yields-5", *FAST, "--impl", "sklearn", "--impl", "normal-equation",
                      "--out", str(out)])  # fmt: skip
    assert code == 0, err
    return out


def _truncate(path: Path, fraction: float) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])


MUTATIONS = {
    "truncate results.csv": lambda d, f: _truncate(d / "results.csv", f),
    "truncate curves.csv": lambda d, f: _truncate(d / "curves.csv", f),
    "garbage run.json": lambda d, f: (d / "run.json").write_text("{" * int(1 + 5 * f)),
    "run.json a list": lambda d, f: (d / "run.json").write_text("[1, 2]"),
    "drop models": lambda d, f: shutil.rmtree(d / "models"),
    "drop one model": lambda d, f: (d / "models" / "sklearn-cpu-float64.pt").unlink(),
    "stale temporary": lambda d, f: (d / ".results.csv.x1.tmp").write_bytes(b"half"),
    "user file in models": lambda d, f: (d / "models" / "mine.txt").write_text("mine"),
    "results.csv a folder": lambda d, f: ((d / "results.csv").unlink(), (d / "results.csv").mkdir()),
    "binary results.csv": lambda d, f: (d / "results.csv").write_bytes(bytes(range(256))[: int(255 * f) + 1]),
    "edit a status": lambda d, f: (d / "results.csv").write_text(
        (d / "results.csv").read_text().replace(",ok,", ",maybe,", 1)
    ),
    "drop machine.json": lambda d, f: (d / "machine.json").unlink(),
}


@settings(BUDGET, max_examples=12)
@given(mutations=st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3, unique=True),
       fraction=st.floats(0.0, 1.0), mode=st.sampled_from(["resume", "out", "overwrite"]))  # fmt: skip
def test_fuzz_run_over_generated_folder_states(tmp_path, finished_run, mutations, fraction, mode):
    folder = fresh(tmp_path) / "run"
    shutil.copytree(finished_run, folder)
    for name in mutations:
        with contextlib.suppress(FileNotFoundError):
            MUTATIONS[name](folder, fraction)
    user_files = {p: p.read_bytes() for p in folder.rglob("mine.txt")}
    before = snapshot(folder) if (folder / "results.csv").is_file() or mode != "resume" else {}
    where = ["--resume", str(folder)] if mode == "resume" else ["--out", str(folder)]
    argv = ["run", "--dataset", "crop-yields-5", *FAST, "--impl", "sklearn", "--impl", "normal-equation", *where]
    code, err = call([*argv, *(["--overwrite"] if mode == "overwrite" else [])])
    if (folder / "results.csv").is_dir():  # nothing of ours could be written there: only a refusal is right
        assert code == 2
    assert_contract(code, err, folder, before if before else snapshot(folder) if code == 2 else {})
    assert all(path.read_bytes() == data for path, data in user_files.items())  # a person's own file is theirs
