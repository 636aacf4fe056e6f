"""The smallest plug-in is a class with a `name` and `fit_unchecked(X, y)`: every other member has
one default, the same one a built-in's declaration has, and every implementation (plug-in or
built-in, closed form or iterative) writes `fit_unchecked` with that one signature."""

from __future__ import annotations

import inspect

import pytest
import torch

from bench.harness.cases import ImplSpec
from bench.harness.configuration import layered_options
from bench.problems import builtin as problems
from impls import ClosedFormOptions, Declaration, Implementation, IterativeImplementation, LinearFit
from impls.declarations import BUILTIN


class Mine(Implementation):
    name = "mine"

    def fit_unchecked(self, X, y):
        A = torch.cat([X, torch.ones_like(X[:, :1])], dim=1)
        theta = torch.linalg.lstsq(A, y).solution
        return LinearFit(theta[:-1].T.contiguous(), theta[-1].clone())


class Loop(IterativeImplementation):
    """Full-batch gradient descent on [X 1], the smallest iterative plug-in."""

    name = "loop"

    def fit_unchecked(self, X, y):
        _generator, theta = self.start_theta(X, y)
        A = torch.cat([X, torch.ones_like(X[:, :1])], dim=1)
        losses = []
        for epoch in range(1, self.options.epochs + 1):
            theta -= self.options.lr * 2 * A.T @ (A @ theta - y) / len(X)
            self.end_epoch(epoch, *self.split_theta(theta), X, y, losses)
        return self.finish(theta, losses)


def test_the_smallest_plug_in_fits_with_every_default(d2l_problem):
    fit = Mine().fit(d2l_problem.X, d2l_problem.y)
    assert torch.allclose(fit.weight, torch.tensor([[2.0, -3.4]], dtype=torch.float64), atol=1e-2)
    assert Mine().options == ClosedFormOptions() and Mine().cost(1000, 2, 1, 8) is None
    assert Mine().unsupported_reason("cpu", torch.float32) is None


def test_a_plug_in_that_declares_nothing_is_read_as_a_built_in_that_declares_nothing():
    nothing = Declaration("mine", f"{__name__}:Mine", "")
    assert Declaration.of(Mine) == nothing
    assert (Implementation.Options, Implementation.devices, Implementation.takes_optimizer) == (
        nothing.Options,
        nothing.devices,
        nothing.takes_optimizer,
    )


def test_run_wide_optimizer_flags_pass_by_an_iterative_plug_in_that_takes_no_optimizer(monkeypatch, d2l_problem):
    monkeypatch.setattr("bench.harness.configuration.implementation_class", lambda name: Loop)
    options = layered_options(d2l_problem, ImplSpec("loop"), {"optimizer": "adam", "lr": 0.1}, True)
    assert "optimizer" not in options and options["lr"] == 0.1


def test_an_iterative_plug_in_hands_each_epoch_to_the_observer_through_the_one_signature():
    problem = problems.univariate()
    seen = []
    fit = Loop(epochs=4, lr=1e-2).fit(problem.X, problem.y, on_epoch=lambda epoch, w, b: seen.append(epoch))
    assert seen == [1, 2, 3, 4] and fit.losses == []  # the observer evaluates: the fit records nothing
    assert len(Loop(epochs=4, lr=1e-2).fit(problem.X, problem.y).losses) == 4


@pytest.mark.parametrize("declaration", BUILTIN, ids=lambda d: d.name)
def test_every_built_in_writes_fit_unchecked_with_the_one_signature(declaration):
    parameters = list(inspect.signature(declaration.load().fit_unchecked).parameters)
    assert parameters == ["self", "X", "y"]
