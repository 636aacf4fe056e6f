"""The checks must be able to fail: each is shown failing on a fit built to fail it."""

import numpy as np
import pytest
import torch

from bench.judge.checks import judge, optimum_tolerance, truth_tolerance
from bench.judge.reference import reference_solution
from bench.problems.builtin import synthetic
from impls import LinearFit


def _fit_at(ref, weight_shift=0.0, bias_shift=0.0, losses=()):
    return LinearFit(torch.from_numpy(ref.weight + weight_shift), torch.from_numpy(ref.bias + bias_shift), list(losses))


def test_reference_matches_numpy_lstsq_and_textbook_standard_errors():
    p = synthetic(n=200, d=3, k=2, noise=0.5, seed=1)
    ref = reference_solution(p.X, p.y)
    A = np.column_stack([p.X.numpy(), np.ones(p.n)])
    theta, *_ = np.linalg.lstsq(A, p.y.numpy(), rcond=None)
    np.testing.assert_allclose(ref.weight, theta[:3].T, rtol=1e-10)
    np.testing.assert_allclose(ref.bias, theta[3], rtol=1e-10)
    sigma2 = ((p.y.numpy() - A @ theta) ** 2).sum(axis=0) / (p.n - 4)
    se = np.sqrt(np.outer(sigma2, np.diag(np.linalg.inv(A.T @ A))))
    np.testing.assert_allclose(ref.se_weight, se[:, :3], rtol=1e-8)
    np.testing.assert_allclose(ref.se_bias, se[:, 3], rtol=1e-8)


def test_optimum_passes_and_a_shift_of_many_standard_errors_fails():
    p = synthetic(n=500, d=2, noise=0.1)
    ref = reference_solution(p.X, p.y)
    assert judge(_fit_at(ref), p, ref, torch.float64, True).status == "ok"
    shifted = judge(_fit_at(ref, bias_shift=10 * ref.se_bias), p, ref, torch.float64, True)
    assert shifted.status == "not-recovered"
    assert shifted.opt_distance_se == pytest.approx(10, rel=0.05)
    assert "standard errors from the least-squares optimum" in shifted.reason


def test_truth_check_fails_when_the_data_lie_about_the_truth():
    p = synthetic(n=500, d=2, noise=0.1)
    ref = reference_solution(p.X, p.y)
    wrong = type(p)(**{**p.__dict__, "true_weight": p.true_weight + 0.5})
    verdict = judge(_fit_at(ref), wrong, ref, torch.float64, True)
    assert verdict.status == "not-recovered" and "from the truth" in verdict.reason


def test_non_finite_is_diverged_with_the_epoch():
    p = synthetic(n=100, d=2)
    ref = reference_solution(p.X, p.y)
    verdict = judge(_fit_at(ref, losses=[1.0, float("inf"), float("nan")]), p, ref, torch.float32, True)
    assert verdict.status == "diverged" and "epoch 2" in verdict.reason
    assert judge(_fit_at(ref, weight_shift=np.nan), p, ref, torch.float32, True).status == "diverged"


def test_a_blown_up_finite_fit_is_diverged():
    p = synthetic(n=100, d=2)
    ref = reference_solution(p.X, p.y)
    assert judge(_fit_at(ref, weight_shift=1e6), p, ref, torch.float32, True).status == "diverged"


def test_noise_free_data_are_judged_by_precision():
    p = synthetic(n=20, d=2, noise=0.0)
    ref = reference_solution(p.X, p.y)
    assert judge(_fit_at(ref), p, ref, torch.float64, True).status == "ok"
    verdict = judge(_fit_at(ref, weight_shift=1e-3), p, ref, torch.float64, True)
    assert verdict.status == "not-recovered" and "relative distance" in verdict.reason


def test_tolerances_follow_the_number_of_parameters():
    assert truth_tolerance(3) < truth_tolerance(30)
    assert optimum_tolerance(3, 1) < optimum_tolerance(11, 1) < optimum_tolerance(11, 2)
