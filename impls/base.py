"""The one interface: an implementation is a short class with declared options and support."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from typing import Any, ClassVar

import torch
from torch.nn import functional

from impls.cost import Cost, sgd_epochs
from impls.cuda_graphs import GraphedEpoch, ReplayCache
from impls.declarations import Declaration
from impls.fit import LinearFit
from impls.init import initial_parameters
from impls.objective import ITERATIVE_LEAST_SQUARES, UNDECLARED, Objective
from impls.options import OptionError, TrainOptions, build_options
from impls.sharded import Collectives, DataParallel
from impls.validation import ArrayLike, InvalidInput, checked_input, checked_sample_weight

FLOAT_DTYPES = (torch.float32, torch.float64)

# Iterative implementations accept `fit(X, y, on_epoch=callback)`: callback(epoch, weight, bias).
EpochCallback = Callable[[int, torch.Tensor, torch.Tensor], None]


class Implementation(ABC):
    """Fits `X` (n, d) and `y` (n, k), already on the device to time, into a `LinearFit`.

    The smallest one declares `name` and writes `fit_unchecked(X, y)`; everything else has a
    default: `Options`, the `devices` and `dtypes` it supports, a `grid` of option values worth
    comparing (what `linreg-bench list` shows and the benchmarks parametrize over), a work model.
    Where a default is also a declaration's, it is the declaration's (impls/declarations.py), so a
    plug-in that declares nothing is read exactly as a built-in that declares nothing.
    """

    name: ClassVar[str]
    summary: ClassVar[str] = ""
    Options: ClassVar[type] = Declaration.Options
    devices: ClassVar[tuple[str, ...]] = Declaration.devices
    takes_optimizer: ClassVar[bool] = Declaration.takes_optimizer  # True: uses optimizer / optimizer_args
    dtypes: ClassVar[tuple[torch.dtype, ...]] = FLOAT_DTYPES
    grid: ClassVar[dict[str, tuple[Any, ...]]] = {}
    iterative: ClassVar[bool] = False
    default_variants: ClassVar[tuple[dict[str, Any], ...]] = ()  # option sets a default run also compares
    supports_sample_weight: ClassVar[bool] = False  # True: it writes fit_weighted
    # How `fit_sharded` takes its data when run data-parallel (impls/sharded.py); None: one process only.
    data_parallel: ClassVar[DataParallel | None] = None

    def __init_subclass__(cls, declaration: Declaration | None = None, **kwargs: Any) -> None:
        """Built-ins take name, summary, options and devices from their torch-free declaration."""
        super().__init_subclass__(**kwargs)
        if declaration is None:
            return
        if declaration.target != f"{cls.__module__}:{cls.__qualname__}":
            raise TypeError(f"{cls.__qualname__} is declared as {declaration.target}")
        cls.name, cls.summary, cls.Options = declaration.name, declaration.summary, declaration.Options
        cls.devices, cls.takes_optimizer = declaration.devices, declaration.takes_optimizer

    def __init__(self, **options: Any) -> None:
        self.options = build_options(self.Options, options, self.name)

    def objective(self) -> Objective:
        """What this fit estimates, so the judge measures it against the optimum of its own objective
        (impls/objective.py); one that declares nothing is judged as iterative least squares."""
        return UNDECLARED

    def checks_finiteness(self) -> bool:
        """True where `fit_unchecked` proves X and y finite in its own first pass (`prove_finite` on
        the sums it computes anyway), so `fit` need not read the data once more to check them."""
        return False

    def unsupported_reason(self, device: str | torch.device, dtype: torch.dtype) -> str | None:
        """Why this implementation cannot run on (device, dtype), or None when it can."""
        device_type = torch.device(device).type
        if device_type not in self.devices:
            return f"{self.name} runs on {', '.join(self.devices)} only, not {device_type}"
        if dtype not in self.dtypes:
            names = ", ".join(str(t).removeprefix("torch.") for t in self.dtypes)
            return f"{self.name} supports {names} only, not {str(dtype).removeprefix('torch.')}"
        return None

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> LinearFit:
        """The checked entry point for API users: X (n, d) and y (n, k) as tensors (NumPy arrays are
        converted, and the fit says so in its notes), validated once, then `fit_unchecked`.
        `sample_weight` (n,), non-negative: minimise Σ wᵢ‖yᵢ − Wxᵢ − b‖², where supported."""
        X, y, notes = checked_input(X, y, self.name, self.unsupported_reason, not self.checks_finiteness())
        weight = None if sample_weight is None else self._checked_weights(sample_weight, X)
        fit = self.fit_prepared(X, y, weight)
        fit.notes[:0] = notes
        return fit

    def fit_prepared(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor | None = None) -> LinearFit:
        """The fit on checked input, weighted or not: what the harness times."""
        if sample_weight is None:
            return self.fit_unchecked(X, y)
        return self.fit_weighted(X, y, sample_weight)

    def with_options(self, **changes: Any) -> Implementation:
        """The same implementation with some options changed (the options object is frozen)."""
        options = {f.name: getattr(self.options, f.name) for f in fields(self.options)}
        return type(self)(**{**options, **changes})

    def _checked_weights(self, sample_weight: ArrayLike, X: torch.Tensor) -> torch.Tensor:
        if not self.supports_sample_weight:
            raise InvalidInput(
                f"{self.name} does not support sample_weight (declare supports_sample_weight and write "
                "fit_weighted(X, y, sample_weight), or repeat rows in proportion to integer weights)"
            )
        return checked_sample_weight(sample_weight, X, self.name)

    @abstractmethod
    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        """The fit itself, on input already validated (what the harness times): return the fit on
        X's device and dtype. Implementations write this; callers use `fit`."""

    def fit_weighted(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor) -> LinearFit:
        """The weighted fit, for implementations that declare `supports_sample_weight`: minimise
        Σ wᵢ‖yᵢ − Wxᵢ − b‖² with `sample_weight` (n,) checked (finite, >= 0, positive sum)."""
        raise NotImplementedError(f"{self.name} declares supports_sample_weight but writes no fit_weighted")

    def cost(self, n: int, d: int, k: int, itemsize: int) -> Cost | None:
        """The work model of this algorithm (bytes, flops); None where there is none."""
        return None

    def fit_cost(self, fit: LinearFit, n: int, d: int, k: int, itemsize: int) -> Cost | None:
        """The work of the route this fit actually took (`fit.work`: a fallback, a second pass,
        an optimizer's extra evaluations); by default the algorithm's `cost`."""
        return self.cost(n, d, k, itemsize)

    def compute_dtype(self, dtype: torch.dtype) -> torch.dtype:
        """The dtype the arithmetic runs in, whose machine peaks bound it (float64 accumulation of
        float32 input, say)."""
        return dtype

    # Whose kernels do the arithmetic: "torch", or "numpy" for NumPy/SciPy's BLAS and LAPACK, whose
    # peaks this machine measures separately (they can be another BLAS, with other threads).
    peaks_library: ClassVar[str] = "torch"

    def single_process_reason(self) -> str | None:
        """Why this implementation cannot run data-parallel, or None when it can."""
        if self.data_parallel is None:
            return f"{self.name} is single-process by nature: it has no data-parallel form"
        return None

    def fit_sharded(self, X: torch.Tensor, y: torch.Tensor, comm: Collectives) -> LinearFit:
        """The data-parallel fit: called on every rank at once with that rank's rows ("rows") or the
        whole data ("sampler"); every rank returns the same fit of all the data."""
        raise NotImplementedError(self.single_process_reason() or f"{self.name} declares no fit_sharded")

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.options!r})"


class IterativeImplementation(Implementation):
    """A trained implementation: `TrainOptions`, an `on_epoch` observer, a seeded start.

    `fit(X, y, on_epoch=callback)`: while a callback is given it observes every epoch and the fit
    records no losses itself (the observer evaluates, off the optimizer's clock). `fit_unchecked`
    keeps the one signature, (X, y): the loop finds the callback in `self.observer`.
    """

    Options: ClassVar[type] = TrainOptions
    iterative: ClassVar[bool] = True
    grid: ClassVar[dict[str, tuple[Any, ...]]] = {"batch_size": (10, 100), "lr": (0.03,)}
    # `fit(X, y, on_epoch=callback)` hands the callback to the loop for that one fit (`observing`).
    observer: EpochCallback | None = None
    # The tutorial loop this implementation is a faster form of (same math, same order, same
    # parameters), and the options that change only its speed; the report sets them side by side.
    tutorial: ClassVar[str | None] = None
    speed_options: ClassVar[tuple[str, ...]] = ()
    supports_sample_weight: ClassVar[bool] = True  # through fit_weighted, for every loop alike

    def objective(self) -> Objective:
        return ITERATIVE_LEAST_SQUARES

    def unsupported_reason(self, device: str | torch.device, dtype: torch.dtype) -> str | None:
        if getattr(self.options, "graph", False) and torch.device(device).type != "cuda":
            return f"{self.name}:graph=true replays a captured CUDA graph: CUDA only"
        return super().unsupported_reason(device, dtype)

    def epoch_runner(self, steps: Callable[[], None], X: torch.Tensor) -> Callable[[], None]:
        """What runs one epoch: `steps` itself, or with `graph=true` their captured CUDA graph."""
        if not getattr(self.options, "graph", False):
            return steps
        reason = self.unsupported_reason(X.device, X.dtype)
        if reason is not None:
            raise OptionError(reason)
        return GraphedEpoch(steps, X.device)

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.replay = ReplayCache()  # graph=true: one capture per inputs, kept across fits (cuda_graphs.py)
        if not self.takes_optimizer and (self.options.optimizer != "sgd" or self.options.optimizer_args):
            raise OptionError(
                f"{self.name} is the tutorial's hand-written SGD: optimizer and optimizer_args apply to nn-linear"
            )

    def cost(self, n: int, d: int, k: int, itemsize: int) -> Cost:
        return sgd_epochs(self.options.epochs, (n, d, k), itemsize, self.options.fit_intercept)

    def fit_cost(self, fit: LinearFit, n: int, d: int, k: int, itemsize: int) -> Cost:
        """With the loss evaluations the optimizer really made (LBFGS re-evaluates within a step):
        `fit.work["evaluations_per_row"]`, evaluations × batch / n over the whole fit."""
        evaluations = fit.work.get("evaluations_per_row")
        o = self.options
        return sgd_epochs(o.epochs, (n, d, k), itemsize, o.fit_intercept, evaluations)

    def start(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Generator, torch.Tensor, torch.Tensor]:
        """The seeded generator (init, then shuffling) and the initial weight (k, d) and bias (k,)."""
        generator = torch.Generator().manual_seed(self.options.seed)
        weight, bias = initial_parameters(self.options, X.shape[1], y.shape[1], X.dtype, X.device, generator)
        return generator, weight, bias

    def start_theta(self, X: torch.Tensor, y: torch.Tensor) -> tuple[torch.Generator, torch.Tensor]:
        """The seeded start as one parameter θ = [w; b], (d + 1, k), for loops over [X 1] batches
        (θ = w, (d, k), without an intercept)."""
        generator, weight, bias = self.start(X, y)
        theta = torch.cat([weight.T, bias[None]]) if self.options.fit_intercept else weight.T.contiguous()
        return generator, theta

    def split_theta(self, theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(weight (k, d), bias (k,)) views of θ; a zero bias without an intercept."""
        theta = theta.detach()
        if not self.options.fit_intercept:
            return theta.T, torch.zeros(theta.shape[1], dtype=theta.dtype, device=theta.device)
        return theta[:-1].T, theta[-1]

    @contextmanager
    def observing(self, on_epoch: EpochCallback | None) -> Iterator[None]:
        """`self.observer` is `on_epoch` for the fits inside the block."""
        saved, self.observer = self.observer, on_epoch
        try:
            yield
        finally:
            self.observer = saved

    def end_epoch(self, epoch: int, weight, bias, X, y, losses: list) -> None:
        """Hand the epoch to the observer, or record the training MSE (kept on the device: no sync)."""
        if self.observer is not None:
            self.observer(epoch, weight, bias)
            return
        with torch.no_grad():
            losses.append(functional.mse_loss(torch.addmm(bias, X, weight.T), y))

    def finish(self, theta: torch.Tensor, losses: list) -> LinearFit:
        weight, bias = self.split_theta(theta)
        return LinearFit(weight.contiguous(), bias.clone(), torch.stack(losses).tolist() if losses else [])

    def fit(
        self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None, on_epoch: EpochCallback | None = None
    ) -> LinearFit:
        """As `Implementation.fit`, with an optional per-epoch observer."""
        X, y, notes = checked_input(X, y, self.name, self.unsupported_reason, not self.checks_finiteness())
        weight = None if sample_weight is None else self._checked_weights(sample_weight, X)
        fit = self.fit_prepared(X, y, weight, on_epoch)
        fit.notes[:0] = notes
        return fit

    def fit_prepared(
        self,
        X: torch.Tensor,
        y: torch.Tensor,
        sample_weight: torch.Tensor | None = None,
        on_epoch: EpochCallback | None = None,
    ) -> LinearFit:
        with self.observing(on_epoch):
            if sample_weight is None:
                return self.fit_unchecked(X, y)
            return self.fit_weighted(X, y, sample_weight)

    def fit_weighted(self, X: torch.Tensor, y: torch.Tensor, sample_weight: torch.Tensor) -> LinearFit:
        """The same loop on rows scaled by √w, with the intercept as a last column of √w: every
        batch's loss is then Σ wᵢ‖yᵢ − Wxᵢ − b‖², the weighted objective, whatever the loop or
        optimizer. Its start differs from the unweighted one (the bias is drawn like a weight), and
        an epoch still visits each row once, so integer weights are not repeated rows for SGD."""
        root = sample_weight.sqrt()[:, None]
        intercept = self.options.fit_intercept
        A = torch.cat([root * X, root], dim=1) if intercept else root * X
        inner = self.with_options(fit_intercept=False)

        def split(weight: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            if intercept:
                return weight[:, :-1], weight[:, -1]
            return weight, torch.zeros(weight.shape[0], dtype=weight.dtype, device=weight.device)

        on_epoch = self.observer
        observer = None if on_epoch is None else (lambda epoch, weight, _bias: on_epoch(epoch, *split(weight)))
        with inner.observing(observer):
            fit = inner.fit_unchecked(A, root * y)
        weight, bias = split(fit.weight)
        note = "weighted by sample_weight (losses are the weighted MSE, Σ w·r² / (n·k))"
        return LinearFit(weight.contiguous(), bias.contiguous(), fit.losses, [*fit.notes, note])

    @abstractmethod
    def fit_unchecked(self, X: torch.Tensor, y: torch.Tensor) -> LinearFit:
        """Train from the seeded start on validated input, calling `end_epoch` after each epoch;
        return the fit on X's device and dtype."""
