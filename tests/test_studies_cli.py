"""The study commands end to end on small inputs: what they write and what they refuse."""

from __future__ import annotations

import pandas as pd

from bench.cli import main


def test_conditioning_writes_digits_falling_with_kappa_and_cholesky_falling_faster(tmp_path):
    out = tmp_path / "cond"
    """At κ = 1e6 (n·κ²·eps ≈ 0.04 < 1) Cholesky provably runs on any IEEE-754 machine, and the
    normal equations' eps·κ² ≈ 2e-4 against a stable solver's eps·κ ≈ 2e-10 leaves a gap of about
    six digits; at 1e8 whether AᵀA is "positive definite" was a rounding accident (one thread: no)."""
    argv = ["conditioning", "--cond", "1e2", "--cond", "1e6", "--impl", "normal-equation:solver=svd",
            "--impl", "normal-equation:solver=cholesky,scaling=none", "--dtype", "float64",
            "--n", "200", "--d", "4", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    frame = pd.read_csv(out / "conditioning.csv")
    digits = frame.pivot_table(index="impl", columns="cond", values="digits")
    svd, cholesky = digits.loc["normal-equation:solver=svd"], digits.loc["normal-equation:solver=cholesky,scaling=none"]
    assert svd[1e2] > svd[1e6] and cholesky[1e2] > cholesky[1e6]
    assert svd[1e6] >= 16 - 6 - 1  # a stable solver keeps about −log10(eps·κ) digits
    assert cholesky[1e6] < svd[1e6] - 2  # the normal equations square κ: about six fewer
    assert (out / "conditioning.png").is_file() and "κ=1e+06" in (out / "conditioning.md").read_text()


def test_conditioning_refuses_impossible_settings(tmp_path, capsys):
    assert main(["conditioning", "--cond", "0.5", "--out", str(tmp_path / "c")]) == 2
    assert main(["conditioning", "--n", "10", "--d", "10", "--out", str(tmp_path / "c")]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "argument --cond: 0.5 is out of range" in err[0]
    assert "--cond must be >= 1, and 1 <= --d < --n" in err[1]
