"""A weighted problem (`run --csv ... --weight COL`) is fitted and judged against the weighted
optimum: a fit that ignores the weights fails its check, one that uses them passes."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.linear_model import LinearRegression

from bench.cli import main
from bench.errors import InputError
from bench.judge.checks import judge
from bench.judge.reference import reference_solution
from bench.problems.csv_file import load_csv
from impls import LinearFit


@pytest.fixture
def weighted_csv(tmp_path):
    """Two halves on different lines; the weights (10 against 0.1) decide which one the fit follows."""
    rng = np.random.default_rng(1)
    n = 200
    X = rng.normal(size=(n, 2))
    heavy = np.arange(n) < 100
    w = np.where(heavy, 10.0, 0.1)
    y = np.where(heavy, X @ [1.0, 2.0] + 1.0, X @ [-3.0, 0.5] - 2.0) + rng.normal(scale=0.1, size=n)
    path = tmp_path / "weighted.csv"
    pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "w": w, "y": y}).to_csv(path, index=False)
    return path, X, y, w


def test_the_weight_column_is_not_a_feature_and_the_reference_is_the_weighted_optimum(weighted_csv):
    path, X, y, w = weighted_csv
    problem = load_csv(path, ["y"], weight="w")
    assert problem.feature_names == ("a", "b") and problem.sample_weight.tolist() == w.tolist()
    ref = reference_solution(problem.X, problem.y, True, problem.sample_weight)
    expected = LinearRegression().fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ref.weight[0], expected.coef_, rtol=1e-10)
    np.testing.assert_allclose(ref.bias[0], expected.intercept_, rtol=1e-10)


def test_a_fit_that_ignores_the_weights_is_not_recovered(weighted_csv):
    path, X, y, w = weighted_csv
    problem = load_csv(path, ["y"], weight="w")
    ref = reference_solution(problem.X, problem.y, True, problem.sample_weight)
    ignoring = LinearRegression().fit(X, y)
    using = LinearRegression().fit(X, y, sample_weight=w)

    def verdict(model):
        fit = LinearFit(torch.tensor(model.coef_[None, :]), torch.tensor([model.intercept_]))
        return judge(fit, problem, ref, torch.float64, True)

    assert verdict(using).status == "ok"
    bad = verdict(ignoring)
    assert bad.status == "not-recovered" and "standard errors from the least-squares optimum" in bad.reason


def test_run_with_weights_judges_every_implementation_against_the_weighted_optimum(weighted_csv, tmp_path):
    path, *_ = weighted_csv
    out = tmp_path / "run"
    args = ["run", "--csv", str(path), "--target", "y", "--weight", "w", "--impl", "normal-equation",
            "--impl", "sklearn", "--impl", "manual-gradient", "--device", "cpu", "--dtype", "float64",
            "--epochs", "30", "--no-plots", "--no-roofline", "--rounds", "1", "--min-time", "0",
            "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    assert pd.read_csv(out / "results.csv")["status"].tolist() == ["ok"] * 3


@pytest.mark.parametrize(
    ("column", "values", "message"),
    [("w", "-1", "column 'w', line 3: a weight must be >= 0"), ("w", "0", "column 'w': every weight is zero"),
     ("nope", "1", "no weight column 'nope'")],
)  # fmt: skip
def test_bad_weights_are_named_by_column_and_line(tmp_path, column, values, message):
    path = tmp_path / "bad.csv"
    first = "1" if values == "-1" else values  # a negative weight only on line 3, the second data row
    path.write_text(f"a,w,y\n1,{first},2\n2,{values},3\n3,{first},5\n")
    with pytest.raises(InputError, match=message):
        load_csv(path, ["y"], weight=column)
