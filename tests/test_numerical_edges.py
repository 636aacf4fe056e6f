"""Numerical edges of the closed forms: each ends in a right answer with a note, or a clear
verdict, never a raw error or a silent wrong answer."""

import pandas as pd
import pytest
import torch

import impls
from bench.cli import main

SOLVERS = ("auto", "svd", "qr", "lstsq", "cholesky")


def test_float32_columns_too_large_to_square_fall_back_instead_of_failing_in_eigh():
    """Before: `linalg.eigh ... failed to converge` (status error) on columns scaled up to 1e24."""
    g = torch.Generator().manual_seed(0)
    X = torch.randn(200, 3, generator=g)
    y = X @ torch.tensor([[1.0], [2.0], [3.0]]) + 1
    scaled = X * torch.tensor([1e-3, 1.0, 1e24])
    fit = impls.create("normal-equation").fit(scaled, y)
    torch.testing.assert_close(fit.weight, torch.tensor([[1e3, 2.0, 3e-24]]), rtol=1e-3, atol=0)
    torch.testing.assert_close(fit.bias, torch.tensor([1.0]), rtol=1e-3, atol=1e-3)
    assert any("overflows float32" in note for note in fit.notes)


def test_qr_with_fewer_rows_than_columns_falls_back_to_svd():
    """Before: a raw RuntimeError from the triangular solve of a wide R."""
    g = torch.Generator().manual_seed(1)
    X, y = torch.randn(3, 5, generator=g, dtype=torch.float64), torch.randn(3, 1, generator=g, dtype=torch.float64)
    qr = impls.create("normal-equation", solver="qr").fit(X, y)
    svd = impls.create("normal-equation", solver="svd").fit(X, y)
    torch.testing.assert_close(qr.weight, svd.weight)
    assert qr.notes[0] == "qr: 3 rows for 5 columns, so X is rank-deficient; fell back to svd"


def collinear():
    """Seed 3: a draw on which Cholesky *succeeds* on the singular AᵀA, scaled or not (rounding)."""
    g = torch.Generator().manual_seed(3)
    X = torch.randn(100, 2, generator=g, dtype=torch.float64)
    X = torch.cat([X, X[:, :1] + X[:, 1:]], dim=1)  # column 3 = column 1 + column 2
    return X, 2 * X[:, :1] + 0.01 * torch.randn(100, 1, generator=g, dtype=torch.float64)


@pytest.mark.parametrize("scaling", ["center", "none"])
def test_cholesky_on_a_nearly_singular_gram_without_intercept_says_so(scaling):
    """Before: Cholesky returned noise with no note. A third column that is the sum of the first two
    plus 1e-6 of noise makes κ(AᵀA) ≈ 1e13: Cholesky succeeds on any IEEE-754 machine (κ·eps ≪ 1)
    and its diagonal bounds the condition far above the note's 1/√eps. (An exactly singular AᵀA
    that rounding leaves "positive definite" is a rounding accident: on one CPU it was, on another not.)
    It still answers (it is the solver asked for), with the note; the judge rules on the digits."""
    X, y = collinear()
    X[:, 2] += 1e-6 * torch.randn(100, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    fit = impls.create("normal-equation", solver="cholesky", fit_intercept=False, scaling=scaling).fit(X, y)
    assert "cholesky: AᵀA is nearly singular (condition ≥" in fit.notes[0]
    assert not fit.facts.fell_back


def test_the_minimum_norm_answer_is_minimum_norm_in_x_s_own_units():
    """Before: minimum norm in the scaled columns' units: a different answer from pinv's."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(100, 1, generator=g, dtype=torch.float64)
    X, y = torch.cat([x, 1000 * x], dim=1), 3 * x
    fit = impls.create("normal-equation", solver="svd").fit(X, y)
    expected = torch.linalg.pinv(X - X.mean(dim=0)) @ (y - y.mean(dim=0))
    torch.testing.assert_close(fit.weight, expected.T)
    assert "minimum norm in X's own units" in fit.notes


def test_a_rank_deficient_x_is_not_recovered_with_its_rank_through_every_solver_and_saves_no_model(tmp_path):
    X, y = collinear()
    frame = pd.DataFrame(X.numpy(), columns=["a", "b", "c"]).assign(y=y[:, 0].numpy())
    frame.to_csv(tmp_path / "collinear.csv", index=False)
    argv = ["run", "--csv", str(tmp_path / "collinear.csv"), "--target", "y", "--device", "cpu", "--dtype", "float64",
            "--out", str(tmp_path / "out")]  # fmt: skip
    for solver in SOLVERS:
        argv += ["--impl", f"normal-equation:solver={solver}"]
    assert main(argv) == 1
    rows = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(rows["status"]) == ["not-recovered"] * len(SOLVERS)
    assert rows["reason"].str.contains("rank 2 of 3 columns").all(), rows["reason"].tolist()
    assert not (tmp_path / "out" / "models").exists()  # before: every one saved as a usable model
