"""Every bad input gets a clear answer: the exception type and a message naming what and where."""

import re

import pytest
import torch

import impls
from bench.harness.cases import Case, ImplSpec, plan
from bench.harness.runner import run, run_case
from bench.harness.session import Session
from bench.judge.reference import reference_solution
from bench.problems import builtin as problems
from impls import InvalidInput, registry, validate
from tests.conftest import FAST_TIMING

X = torch.randn(20, 3, dtype=torch.float64)
Y = torch.randn(20, 1, dtype=torch.float64)


def with_value(t, row, col, value):
    t = t.clone()
    t[row, col] = value
    return t


@pytest.mark.parametrize(
    ("X_", "y_", "message"),
    [
        (with_value(X, 4, 2, float("nan")), Y, "X contains nan at row 4, column 2"),
        (X, with_value(Y, 7, 0, float("inf")), "y contains inf at row 7, column 0"),
        (X[:0], Y[:0], "empty data"),
        (X[:1], Y[:1], "a single row cannot determine a regression"),
        (X, Y[:19], "X has 20 rows but y has 19"),
        (X, Y[:, 0], r"y must be 2-D \(n, k\), got shape \(20,\) \(use y\[:, None\] for one target\)"),
        (X[:, 0], Y, r"X must be 2-D \(n, d\)"),
        (X.long(), Y, "X has dtype int64; convert it to a floating dtype"),
        (X, Y > 0, "y has dtype bool; convert it"),
        (X.numpy(), Y, "X must be a torch.Tensor, got ndarray"),
        (X, Y.float(), "X is torch.float64 but y is torch.float32"),
    ],
)
def test_bad_arrays_are_refused_with_what_and_where(X_, y_, message):
    with pytest.raises(InvalidInput, match=message):
        validate(X_, y_, "nn-linear")


def test_x_and_y_on_different_devices():
    meta = torch.empty(20, 1, dtype=torch.float64, device="meta")
    with pytest.raises(InvalidInput, match="X is on cpu but y is on meta"):
        validate(X, meta)


def test_valid_input_passes():
    validate(X, Y)
    validate(X.float(), Y.float())


def test_a_value_that_overflows_float32_is_an_error_for_that_case_only():
    big = problems.Problem("big", with_value(X, 3, 1, 1e39), Y)  # float32 tops out at 3.4e38
    cases = plan([ImplSpec("normal-equation")], ["cpu"], [torch.float32, torch.float64])
    rows = [o.row for o in run(Session(big, cases, FAST_TIMING))]
    assert rows[0]["status"] == "error" and "X contains inf at row 3, column 1" in rows[0]["reason"]
    assert rows[1]["status"] != "error" and rows[1]["time_median_s"] > 0  # float64 holds it: the run went on


def test_fewer_rows_than_parameters_is_marked_not_hidden():
    p = problems.synthetic(n=4, d=6)
    outcomes = run(
        Session(p, plan([ImplSpec("normal-equation"), ImplSpec("sklearn")], ["cpu"], [torch.float64]), FAST_TIMING)
    )
    for o in outcomes:
        assert o.row["status"] == "not-recovered" and "rank-deficient (rank" in o.row["reason"], o.row


def test_constant_column_is_reported_with_the_rank():
    Xc = torch.cat([X, torch.ones(20, 1, dtype=torch.float64)], dim=1)
    p = problems.Problem("const", Xc, Xc[:, :1] * 2 + 0.1 * Y)
    (o,) = run(Session(p, plan([ImplSpec("normal-equation")], ["cpu"], [torch.float64]), FAST_TIMING))
    assert o.row["status"] == "not-recovered" and "rank 3 of 4 columns" in o.row["reason"]


def test_blow_up_is_diverged_with_the_epoch_and_the_run_goes_on():
    p = problems.d2l()
    cases = plan([ImplSpec("nn-linear", (("lr", 5.0),)), ImplSpec("sklearn")], ["cpu"], [torch.float64])
    first, second = (o.row for o in run(Session(p, cases, FAST_TIMING)))
    assert first["status"] == "diverged" and re.search(r"epoch \d+", first["reason"]), first["reason"]
    assert second["status"] == "ok"


def test_out_of_memory_is_an_error_for_that_case_and_memory_is_released(monkeypatch):
    class Hungry(impls.Implementation):
        name = "hungry"

        def fit_unchecked(self, X, y):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 80 GiB")

    emptied = []
    monkeypatch.setattr(registry, "BUILTIN", (*registry.BUILTIN, impls.Declaration.of(Hungry)))
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
    p = problems.d2l()
    case = Case(ImplSpec("hungry"), "cpu", torch.float32)
    row = run_case(Session(p, (case,), FAST_TIMING, reference=reference_solution(p.X, p.y)), case).row
    assert row["status"] == "error" and row["reason"] == "out of memory" and emptied


def test_the_finiteness_check_sums_first_and_still_finds_every_bad_value_and_passes_huge_finite_ones():
    """One reduction for clean data (no full-size boolean temporary); a sum that overflows from huge
    finite values falls back to the element-wise look and passes; NaN, ±inf and inf − inf fail."""
    from impls.validation import all_finite

    big = torch.full((4, 3), torch.finfo(torch.float64).max, dtype=torch.float64)  # finite; the sum overflows
    assert not torch.isfinite(big.sum()) and all_finite(big)
    for bad in (float("nan"), float("inf"), -float("inf")):
        t = torch.zeros(5, 2)
        t[3, 1] = bad
        assert not all_finite(t)
    both = torch.tensor([[float("inf")], [-float("inf")]])  # sums to NaN
    assert not all_finite(both)
    X = torch.zeros(5, 2, dtype=torch.float64)
    X[2, 1] = float("nan")
    with pytest.raises(InvalidInput, match=r"X contains nan at row 2, column 1"):
        validate(X, torch.zeros(5, 1, dtype=torch.float64), "fit")


def test_the_default_closed_form_proves_its_input_finite_from_the_sums_of_its_own_gram_pass(monkeypatch):
    """Before: `fit` read X once more just to check it (at 1e6 × 100 more than half the fit). Now
    the auto solver's column sums prove it finite: no extra pass; a bad value is still named."""
    from impls import validation

    looked = []
    real = validation.all_finite
    monkeypatch.setattr(validation, "all_finite", lambda t: looked.append(t.shape) or real(t))
    X, y = torch.randn(50, 3, dtype=torch.float64), torch.randn(50, 1, dtype=torch.float64)
    impls.create("normal-equation").fit(X, y)
    assert looked == []  # no pass of its own over X or y
    impls.create("normal-equation", solver="svd").fit(X, y)
    assert looked == [(50, 3), (50, 1)]  # a solver that sums nothing is checked as before
    X[7, 1] = float("inf")
    with pytest.raises(InvalidInput, match=r"normal-equation: X contains inf at row 7, column 1"):
        impls.create("normal-equation").fit(X, y)
    X[7, 1], y[9, 0] = 0.0, float("nan")
    with pytest.raises(InvalidInput, match=r"normal-equation: y contains nan at row 9, column 0"):
        impls.create("normal-equation", fit_intercept=False).fit(X, y)
