"""The work models, against the formulas written out by hand, and priced by the route a fit took."""

import pytest
import torch

from bench import problems
from impls import implementation_class
from impls.cost import closed_form, sgd_epochs


@pytest.mark.parametrize("intercept", [True, False])
def test_closed_form_counts_every_column_it_reads_and_every_one_it_solves_for(intercept):
    n, d, k, itemsize = 1000, 3, 2, 8
    p = d + int(intercept)
    cost = closed_form("cholesky", n, d, k, itemsize, intercept)
    assert cost.bytes == n * (d + k) * itemsize  # X and y, once; the ones column is not read
    assert cost.flops == n * p * p + 2 * n * p * k + p**3
    assert closed_form("svd", n, d, k, itemsize, intercept).flops == 4 * n * p * p + 2 * n * p * k + p**3


def test_sgd_counts_one_evaluation_per_row_per_epoch_unless_told_more():
    n, d, k, itemsize = 1000, 2, 1, 4
    plain = sgd_epochs(3, (n, d, k), itemsize)
    assert plain.bytes == 3 * n * (d + k) * itemsize and plain.flops == 3 * 6 * n * (d + 1) * k
    assert sgd_epochs(3, (n, d, k), itemsize, evaluations=30).flops == 30 * 4 * n * 3 + 3 * 2 * n * 3
    assert sgd_epochs(3, (n, d, k), itemsize, fit_intercept=False).flops == 3 * 6 * n * d * k


def test_no_intercept_fits_are_priced_on_all_their_columns():
    # before: data_pass(n, p - 1) with p = d left one column of X out of the bytes
    impl = implementation_class("normal-equation")(fit_intercept=False)
    assert impl.cost(100, 4, 1, 8).bytes == 100 * 5 * 8


def test_auto_is_priced_by_the_route_it_took():
    fitter = implementation_class("normal-equation")()
    plain = problems.load("d2l")  # zero-mean columns: one Gram pass, Cholesky
    offset = problems.load("crop-yields")  # large means: a second, exactly centring pass
    ill = problems.load("strd-longley")  # cond > 1e3: the Gram pass, then svd
    costs = {}
    for name, problem in (("plain", plain), ("offset", offset), ("ill", ill)):
        fit = fitter.fit(problem.X, problem.y)
        costs[name] = (fit.work, fitter.fit_cost(fit, problem.n, problem.d, problem.k, 8),
                       fitter.cost(problem.n, problem.d, problem.k, 8))  # fmt: skip
    work, priced, nominal = costs["plain"]
    assert work == {"route": "cholesky", "gram_passes": 1} and priced == nominal
    work, priced, nominal = costs["offset"]
    assert work["gram_passes"] == 2 and priced.bytes == 2 * nominal.bytes
    work, priced, nominal = costs["ill"]
    svd = closed_form("svd", ill.n, ill.d, ill.k, 8)
    assert work["route"] == "gram-then-svd" and priced.flops == 2 * nominal.flops + svd.flops


def test_a_solver_that_fell_back_to_svd_pays_for_both():
    X = torch.ones(3, 4, dtype=torch.float64)  # qr with n < p falls back to svd
    y = torch.zeros(3, 1, dtype=torch.float64)
    fitter = implementation_class("normal-equation")(solver="qr", scaling="none")
    fit = fitter.fit(X, y)
    assert fit.work["route"] == "qr-then-svd"
    cost = fitter.fit_cost(fit, 3, 4, 1, 8)
    assert cost.flops == closed_form("qr", 3, 4, 1, 8).flops + closed_form("svd", 3, 4, 1, 8).flops


def test_lbfgs_is_priced_by_the_evaluations_it_made():
    problem = problems.load("d2l")
    fitter = implementation_class("nn-linear")(optimizer="lbfgs", loader="tensor", lr=1.0, epochs=1, batch_size=100)
    fit = fitter.fit(problem.X, problem.y)
    per_row = fit.work["evaluations_per_row"]
    assert per_row > 1  # several evaluations per step, not one
    shape = (problem.n, problem.d, problem.k, 8)
    assert fitter.fit_cost(fit, *shape).flops > fitter.cost(*shape).flops
    sgd = implementation_class("nn-linear")(loader="tensor")
    plain = sgd.fit(problem.X, problem.y)
    assert "evaluations_per_row" not in plain.work
    assert sgd.fit_cost(plain, problem.n, problem.d, problem.k, 8) == sgd.cost(problem.n, problem.d, problem.k, 8)
