"""Option objects: configured once, validated once. Every implementation's options live here, apart
from its code and free of torch, so that listing and parsing them imports nothing heavy."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

INITS = ("normal", "randn", "zeros", "torch")
LOADERS = ("dataloader", "tensor")
SOLVERS = ("auto", "svd", "qr", "lstsq", "cholesky", "tsqr")
SCALINGS = ("center", "none")
ACCUMULATE = ("input", "float64")
ESTIMATORS = ("LinearRegression", "Ridge", "SGDRegressor")
MAX_EPOCHS = 1_000_000  # past this a typo is likelier than a plan: 1e12 epochs would run until killed


class OptionError(ValueError):
    """An option value is out of range or unknown; the message names the option."""


@dataclass(frozen=True)
class ClosedFormOptions:
    """Options every implementation understands."""

    fit_intercept: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.fit_intercept, bool):
            raise OptionError(f"fit_intercept must be true or false, got {self.fit_intercept!r}")


@dataclass(frozen=True)
class TrainOptions(ClosedFormOptions):
    """Options of the iterative methods.

    Defaults are the d2l tutorial's: lr 0.03, minibatches of 10, 3 epochs, w ~ N(0, 0.01²), b = 0.
    `init`: `normal` (w ~ N(0, init_std²), b = 0; d2l), `randn` (w and b ~ N(0, 1); "Zero to
    GANs"), `zeros`, or `torch` (leave `nn.Linear`'s own initialisation).
    """

    epochs: int = 3
    lr: float = 0.03
    batch_size: int = 10
    optimizer: str = "sgd"
    optimizer_args: dict[str, Any] = field(default_factory=dict)
    init: str = "normal"
    init_std: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        super().__post_init__()
        if not _is_integer(self.epochs) or not 1 <= self.epochs <= MAX_EPOCHS:
            raise OptionError(f"epochs must be an integer >= 1 and at most {MAX_EPOCHS:,}, got {self.epochs!r}")
        if not _is_number(self.lr) or not 0 < self.lr < math.inf:
            raise OptionError(f"lr must be > 0 and finite, got {self.lr!r}")
        if not _is_integer(self.batch_size) or self.batch_size < 1:
            raise OptionError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if not isinstance(self.optimizer, str):
            raise OptionError(f"optimizer must be a name, got {self.optimizer!r}")
        if not isinstance(self.optimizer_args, dict):
            raise OptionError(f"optimizer_args must be an object of keyword arguments, got {self.optimizer_args!r}")
        if self.init not in INITS:
            raise OptionError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        if not _is_number(self.init_std) or not 0 < self.init_std < math.inf:
            raise OptionError(f"init_std must be > 0 and finite, got {self.init_std!r}")
        if not _is_integer(self.seed) or not 0 <= self.seed < 2**63:
            raise OptionError(f"seed must be an integer >= 0, got {self.seed!r}")


def _is_integer(value: Any) -> bool:
    """An int, not a bool (True is an int to Python, never an epoch count to a person)."""
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def option_names(options_type: type) -> list[str]:
    return [f.name for f in fields(options_type)]


def check_option_names(options_type: type, given: Iterable[str], owner: str, layer: str | None = None) -> None:
    """The one place an unknown option is refused, for every layer that sets options: the
    constructor (`layer` None: "owner: unknown option ..."), and the layers above it, each named
    ("owner has no option ..., set by LAYER"): `harness.configuration`'s layering of a run,
    `--impl NAME:key=value`, the scikit-learn estimator's parameters."""
    known = option_names(options_type)
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return
    if layer is None:
        raise OptionError(f"{owner}: unknown option {', '.join(unknown)} (accepted: {', '.join(known)})")
    raise OptionError(
        f"{owner} has no option {', '.join(unknown)}, set by {layer} (options: {', '.join(sorted(known))})"
    )


def build_options(options_type: type, values: dict[str, Any], owner: str) -> Any:
    """Build an options object, naming the owner and the accepted keys on a typo."""
    check_option_names(options_type, values, owner)
    return options_type(**values)


@dataclass(frozen=True)
class GraphedTrainOptions(TrainOptions):
    """`graph` (CUDA only): the first epoch runs as the plain loop, later ones replay it as one
    captured CUDA graph — the same kernels in the same order, so the same parameters. `compile`:
    the step through `torch.compile` (inductor), compiled once per inputs before the first epoch and
    its compile time reported apart (`compile_s`)."""

    graph: bool = False
    compile: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("graph", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise OptionError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if self.graph and self.compile:
            raise OptionError("graph=true and compile=true: choose one (compile's mode='reduce-overhead' graphs too)")


@dataclass(frozen=True)
class NormalEquationOptions(ClosedFormOptions):
    """`solver`: auto (default), svd, qr, lstsq, cholesky or tsqr. `auto` builds the centred Gram matrix of
    [X y] in one blocked pass (no copy of X), scales it to unit diagonal and solves by Cholesky when
    its condition number is at most AUTO_MAX_COND; otherwise it says so and uses svd. `scaling`:
    `center` (default) subtracts the column means (with an intercept) and scales columns to unit
    norm before factorising, the known cure for the conditioning that an offset column or mixed
    units cause; `none` factorises [X 1]
    as the textbook writes it. `accumulate`: `float64` computes float32 input in float64.
    `tsqr` is the data-parallel QR (each rank factors its rows, the R factors are factored again;
    Benson, Gleich & Demmel): in one process it is `qr`. Run data-parallel (`--nproc`), `auto` and
    `cholesky` merge the ranks' centred moments, `auto` falls back to tsqr instead of svd, and svd,
    qr and lstsq solve the tsqr R factor.

    svd is the default for accuracy: it is backward stable (error grows with cond(A), where the
    normal equations grow with cond(A)²), it reveals the numerical rank so a rank-deficient X is
    reported instead of returned as garbage, and it behaves the same on CPU and CUDA (CUDA's
    `torch.linalg.lstsq` only has the `gels` driver, which assumes full rank).
    """

    solver: str = "auto"
    scaling: str = "center"
    accumulate: str = "input"

    def __post_init__(self) -> None:
        super().__post_init__()
        for option, value, allowed in (
            ("solver", self.solver, SOLVERS),
            ("scaling", self.scaling, SCALINGS),
            ("accumulate", self.accumulate, ACCUMULATE),
        ):
            if value not in allowed:
                raise OptionError(f"normal-equation: unknown {option} {value!r} (available: {', '.join(allowed)})")


@dataclass(frozen=True)
class NNLinearOptions(GraphedTrainOptions):
    """`loader`: `dataloader` (the tutorial's `TensorDataset` + `DataLoader(shuffle=True)`, which
    fetches and collates one row at a time) or `tensor` (one permutation per epoch, batches sliced
    from the tensors in memory: the same shuffled minibatch SGD without the per-row cost).
    `graph` (CUDA, `loader=tensor`): the first epoch runs as the plain loop, later ones replay it
    as one captured CUDA graph — forward, backward and `optimizer.step()` of every batch."""

    loader: str = "dataloader"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.loader not in LOADERS:
            raise OptionError(f"nn-linear: unknown loader {self.loader!r} (available: {', '.join(LOADERS)})")
        if self.graph and self.loader != "tensor":
            raise OptionError("nn-linear: graph=true needs loader=tensor (a DataLoader batches on the host)")
        if self.graph and self.optimizer.lower() == "lbfgs":
            raise OptionError("nn-linear: LBFGS decides on the host how often to re-evaluate; it cannot be graphed")


@dataclass(frozen=True)
class SklearnOptions(ClosedFormOptions):
    """`estimator`: a `sklearn.linear_model` class name; `estimator_args`: its keyword arguments."""

    estimator: str = "LinearRegression"
    estimator_args: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.estimator not in ESTIMATORS:
            raise OptionError(f"sklearn: unknown estimator {self.estimator!r} (available: {', '.join(ESTIMATORS)})")
