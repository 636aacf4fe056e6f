"""How each built-in problem is built: the tutorials' datasets with their hyper-parameters, synthetic
data and the NIST StRD sets (shipped in data/strd). `catalogue` names them without building them."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import torch

from bench.errors import InputError
from bench.problems.problem import D2L_STYLE, D2L_TRAINING, SIZES, Problem

UNIVARIATE_X = [3.3, 4.4, 5.5, 6.71, 6.93, 4.168, 9.779, 6.182, 7.59, 2.167, 7.042, 10.791, 5.313, 7.997, 3.1]
UNIVARIATE_Y = [1.7, 2.76, 2.09, 3.19, 1.694, 1.573, 3.366, 2.596, 2.53, 1.221, 2.827, 3.465, 1.65, 2.904, 1.3]

CROP_INPUTS = [
    [73, 67, 43], [91, 88, 64], [87, 134, 58], [102, 43, 37], [69, 96, 70],
    [74, 66, 43], [91, 87, 65], [88, 134, 59], [101, 44, 37], [68, 96, 71],
    [73, 66, 44], [92, 87, 64], [87, 135, 57], [103, 43, 36], [68, 97, 70],
]  # fmt: skip
CROP_TARGETS = [
    [56, 70], [81, 101], [119, 133], [22, 37], [103, 119],
    [57, 69], [80, 102], [118, 132], [21, 38], [104, 118],
    [57, 69], [82, 100], [118, 134], [20, 38], [102, 120],
]  # fmt: skip
CROP_NEW_INPUT = [[75.0, 63.0, 44.0]]


def _tensor(rows: list) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def d2l(seed: int = 0) -> Problem:
    w, b = _tensor([[2.0, -3.4]]), _tensor([4.2])
    problem = _linear_data("d2l", 1000, (w, b), noise=0.01, seed=seed)
    return replace(problem, description="d2l: y = Xw + b + N(0, 0.01²), w = [2, -3.4], b = 4.2, n = 1000")


def univariate() -> Problem:
    # The tutorial: full-batch GD on nn.MSELoss, lr 1e-2, 10 updates, w ~ N(0, 1), b = 0. The d2l-style
    # manual step (½ squared error, / batch) moves half as far, so lr 2e-2 there is the same update.
    return Problem(
        "univariate",
        _tensor(UNIVARIATE_X)[:, None],
        _tensor(UNIVARIATE_Y)[:, None],
        description="univariate GD tutorial: 15 fixed points, full-batch gradient descent, MSE",
        training={"lr": 1e-2, "batch_size": 15, "epochs": 10, "init": "normal", "init_std": 1.0},
        training_by_impl={key: {"lr": 0.02} for key in D2L_STYLE},
        feature_names=("x",),
        target_names=("y",),
    )


def crop_yields(rows: int = 15) -> Problem:
    # Zero to GANs: (b) nn.Linear(3, 2), F.mse_loss, SGD lr 1e-5, DataLoader batch 5, 100 epochs;
    # (a) manual x @ w.t() + b on the full batch, w and b ~ randn; (b) keeps nn.Linear's own init.
    # With k = 2 targets the d2l-style step (½ squared error / batch) equals the tutorial's step on
    # MSE over all n·k elements, so lr is the same.
    name = "crop-yields" if rows == 15 else f"crop-yields-{rows}"
    return Problem(
        name,
        _tensor(CROP_INPUTS[:rows]),
        _tensor(CROP_TARGETS[:rows]),
        description=f"Zero to GANs crop yields: {rows} regions, (temp, rainfall, humidity) -> (apples, oranges)",
        training={"lr": 1e-5, "batch_size": 5, "epochs": 100, "init": "randn"},
        training_by_impl={**{key: {"batch_size": rows} for key in D2L_STYLE}, "nn-linear": {"init": "torch"}},
        known_status=dict.fromkeys((*D2L_STYLE, "nn-linear"), "not-recovered"),
        feature_names=("temp", "rainfall", "humidity"),
        target_names=("apples", "oranges"),
    )


def synthetic(n: int = 1000, d: int = 10, k: int = 1, noise: float = 0.1, seed: int = 0) -> Problem:
    """X ~ N(0, 1); true weight, bias ~ N(0, 1) from `seed`; Gaussian noise of std `noise`."""
    if n < 1 or d < 1 or k < 1:
        raise InputError(f"synthetic: n, d and k must be >= 1, got n={n}, d={d}, k={k}")
    if noise < 0:
        raise InputError(f"synthetic: noise must be >= 0, got {noise}")
    g = torch.Generator().manual_seed(seed + 1)
    w = torch.randn(k, d, generator=g, dtype=torch.float64)
    b = torch.randn(k, generator=g, dtype=torch.float64)
    problem = _linear_data(f"synthetic-{n}x{d}x{k}", n, (w, b), noise, seed)
    return replace(problem, description=f"synthetic: n={n}, d={d}, k={k}, X ~ N(0, 1), noise std {noise}, seed {seed}")


def synthetic_size(size: str) -> Problem:
    """Benchmark sizes: `small` is the tutorials' scale and settings. Larger ones take minibatches of
    n/10, lr 0.1 and 30 epochs (300 steps): the tutorial's batch of 10 would take minutes per fit,
    and constant-step SGD only lands within the optimum's standard errors (σ/√n) when its own noise,
    ~√(lr·σ²/2B), is no larger, i.e. when B is a sizeable fraction of n."""
    n, d = SIZES[size]
    problem = synthetic(n=n, d=d, noise=0.1, seed=0)
    description = f"synthetic-{size}: " + problem.description.removeprefix("synthetic: ")
    if size == "small":
        return replace(problem, name="synthetic-small", description=description)
    return replace(
        problem,
        name=f"synthetic-{size}",
        description=description,
        training={**D2L_TRAINING, "lr": 0.1, "batch_size": n // 10, "epochs": 30},
        training_by_impl={"nn-linear": {"loader": "tensor"}},  # DataLoader: ~25 s per medium fit
    )


def _linear_data(name: str, n: int, truth: tuple[torch.Tensor, torch.Tensor], noise: float, seed: int) -> Problem:
    """y = Xw + b + N(0, noise²), X ~ N(0, 1): n rows drawn from `seed`, the d2l settings to train."""
    w, b = truth
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, w.shape[1], generator=g, dtype=torch.float64)
    y = X @ w.T + b + noise * torch.randn(n, w.shape[0], generator=g, dtype=torch.float64)
    return Problem(name, X, y, true_weight=w, true_bias=b, training=dict(D2L_TRAINING))


STRD_DIR = Path(__file__).with_name("data") / "strd"
STRD = {"strd-norris": "Norris", "strd-longley": "Longley", "strd-noint1": "NoInt1"}


def strd(key: str) -> Problem:
    """A NIST StRD linear least-squares dataset with its certified values (shipped in the package)."""

    from bench.problems.csv_file import load_csv  # here: pandas is not needed to list or build the others

    name = STRD[key]
    problem = load_csv(STRD_DIR / f"{name}.csv", ["y"], certified=STRD_DIR / f"{name}.certified.json", name=key)
    # The tutorials' SGD settings on raw StRD scales blow up: that is the known, reported result.
    return replace(problem, known_status=dict.fromkeys((*D2L_STYLE, "nn-linear"), "diverged"))
