"""Optimizer comparison: tune the learning rate per optimizer on a log grid, rerun the best over
seeds, and measure time-to-target against the float64 closed-form optimum.

The clock charges each optimizer only for its own work: it stops at the end of every epoch while
the curve point (loss and excess loss, in float64) is evaluated, and restarts after.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from bench.harness.timing import synchronize
from bench.judge.checks import judge, loss_and_excess
from bench.judge.reference import Reference
from bench.problems.problem import Problem
from bench.studies.optimizers import preset
from impls import LinearFit, create
from impls.nn_linear import optimizer_classes

DIVERGED = 1e6  # excess loss beyond which a curve has blown up (training stops there)
FIXED_TARGET = 1e-6  # the target where the optimum has no statistical precision to aim at (no noise, n − p < 5)
LBFGS_TOLERANCE_CHANGE = inspect.signature(torch.optim.LBFGS.__init__).parameters["tolerance_change"].default


def statistical_target(ref: Reference, y: torch.Tensor) -> tuple[float, str]:
    """The default target: the optimum's own statistical precision. A fit √p standard errors from
    θ* (the expected distance of θ* from the truth, χ²_p) has excess loss p / (n − p), so any
    optimizer that gets there has found the optimum as well as the data can tell it; closer is
    digits the data do not support. Without noise (residuals at rounding level) or residual degrees
    of freedom, 1e-6."""
    rounding = float((64 * np.finfo(np.float64).eps) ** 2 * y.double().pow(2).mean())
    if ref.mse > rounding and ref.dof >= 5:
        return ref.n_params / ref.dof, (f"p / (n − p) = {ref.n_params}/{ref.dof}, the optimum's own statistical "
                                        f"precision (a fit √p standard errors from it)")  # fmt: skip
    return FIXED_TARGET, "1e-06 (no noise or fewer than 5 residual degrees of freedom: no statistical yardstick)"


@dataclass(frozen=True)
class SweepConfig:
    optimizers: tuple[str, ...]
    lrs: tuple[float, ...]
    batch_sizes: tuple[int, ...]
    seeds: int = 5
    epochs: int = 20
    target: float = 1e-6
    target_why: str = ""  # how the target was chosen, for the report
    standardize: bool = False
    loader: str = "tensor"
    dtype: torch.dtype = torch.float64
    device: str = "cpu"
    stop_at_target: bool = False  # True: a cell ends when it reaches the target (time-to-target runs)


@dataclass
class Cell:
    """One (optimizer, lr, batch size, seed) training run and its curve."""

    optimizer: str
    lr: float
    batch_size: int
    seed: int
    phase: str  # tune | seeds
    curve: list[dict[str, float]] = field(default_factory=list)
    row: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.optimizer, self.lr, self.batch_size, self.seed)


def standardizer(X: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    mean, std = X.mean(dim=0), X.std(dim=0)
    return mean, torch.where(std > 0, std, torch.ones_like(std))


def unstandardize(weight: torch.Tensor, bias: torch.Tensor, mean: torch.Tensor, std: torch.Tensor):
    """Parameters fitted on (X − mean) / std, expressed on X's own scale."""
    w = weight / std
    return w, bias - w @ mean


class EpochClock:
    """The on_epoch observer: time the optimizer's epochs only, evaluate the curve off the clock."""

    def __init__(
        self, evaluate: Callable[[torch.Tensor, torch.Tensor], tuple[float, float]], device: str, stop_below: float
    ) -> None:
        self.evaluate, self.device, self.stop_below = evaluate, device, stop_below
        self.elapsed, self.points = 0.0, []
        self.started = 0.0

    def start(self) -> None:
        synchronize(self.device)
        self.started = time.perf_counter()

    def __call__(self, epoch: int, weight: torch.Tensor, bias: torch.Tensor) -> None:
        synchronize(self.device)
        self.elapsed += time.perf_counter() - self.started
        loss, excess = self.evaluate(weight, bias)
        self.points.append({"epoch": epoch, "seconds": self.elapsed, "loss": loss, "excess_loss": excess})
        if not math.isfinite(excess) or excess > DIVERGED:
            raise _Diverged(epoch)
        if excess <= self.stop_below:
            raise _Reached
        self.started = time.perf_counter()


class _Reached(Exception):
    pass


class _Diverged(Exception):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch


def _evaluator(problem: Problem, ref: Reference, mean, std) -> Callable:
    X, y = problem.X.numpy(), problem.y.numpy()

    def evaluate(weight: torch.Tensor, bias: torch.Tensor) -> tuple[float, float]:
        w, b = weight.detach().to("cpu", torch.float64), bias.detach().to("cpu", torch.float64)
        if mean is not None:
            w, b = unstandardize(w, b, mean, std)
        w, b = w.numpy(), b.numpy()
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            return float("nan"), float("nan")
        loss, excess, _ = loss_and_excess(w, b, X, y, ref)
        return loss, excess

    return evaluate


def run_cell(problem: Problem, ref: Reference, config: SweepConfig, cell: Cell) -> Cell:
    impl_name, options, full_batch = preset(cell.optimizer)
    batch = problem.n if full_batch else cell.batch_size
    extra = {"loader": config.loader} if impl_name == "nn-linear" else {}
    impl = create(impl_name, **options, **extra, lr=cell.lr, batch_size=batch, epochs=config.epochs,
                  seed=cell.seed, fit_intercept=problem.fit_intercept)  # fmt: skip
    mean = std = None
    X = problem.X
    if config.standardize:
        mean, std = standardizer(X)
        X = (X - mean) / std
    X = X.to(config.device, config.dtype)
    y = problem.y.to(config.device, config.dtype)
    stop_below = config.target if config.stop_at_target else -math.inf
    clock = EpochClock(_evaluator(problem, ref, mean, std), config.device, stop_below)
    status, reason = "ok", ""
    clock.start()
    try:
        fit = impl.fit_prepared(X, y, on_epoch=clock)
    except _Reached:
        fit = None
    except _Diverged as stop:
        status, reason, fit = "diverged", f"excess loss blew up at epoch {stop.epoch}", None
    except Exception as exc:  # one bad cell never stops the sweep
        status, reason, fit = "error", f"{type(exc).__name__}: {' '.join(str(exc).split())}", None
    cell.curve = clock.points
    reached = [p for p in clock.points if p["excess_loss"] <= config.target]
    final = clock.points[-1] if clock.points else {}
    row = {
        "optimizer": cell.optimizer, "lr": cell.lr, "batch_size": batch, "requested_batch": cell.batch_size,
        "seed": cell.seed, "phase": cell.phase,
        "status": status, "reason": reason, "epochs_run": len(clock.points),
        "target": config.target, "reached": bool(reached),
        "time_to_target_s": reached[0]["seconds"] if reached else math.nan,
        "epochs_to_target": reached[0]["epoch"] if reached else math.nan,
        "final_excess_loss": final.get("excess_loss", math.nan), "final_loss": final.get("loss", math.nan),
        "time_per_epoch_s": clock.elapsed / len(clock.points) if clock.points else math.nan,
        "standardized": config.standardize, "dataset": problem.name,
    }  # fmt: skip
    if fit is not None:
        weight, bias = fit.weight.to("cpu", torch.float64), fit.bias.to("cpu", torch.float64)
        if mean is not None:
            weight, bias = unstandardize(weight, bias, mean, std)
        verdict = judge(LinearFit(weight, bias), problem, ref, config.dtype, problem.fit_intercept)
        row.update(param_distance=verdict.param_distance, status=verdict.status if status == "ok" else status)
        if verdict.status == "diverged":
            row["reason"] = verdict.reason
    cell.row = row
    return cell


def best_lr(rows: list[dict[str, Any]]) -> float | None:
    """Fastest to the target; if none reaches it, the lowest final excess loss; never a diverged one."""
    usable = [r for r in rows if r["status"] not in ("diverged", "error") and math.isfinite(r["final_excess_loss"])]
    if not usable:
        return None
    reached = [r for r in usable if r["reached"]]
    if reached:
        return min(reached, key=lambda r: r["time_to_target_s"])["lr"]
    return min(usable, key=lambda r: r["final_excess_loss"])["lr"]


def optimizer_note(name: str, optimum_loss: float | None = None) -> str:
    """What a reader of the table must know to read an optimizer's row right: defaults that keep
    it off the least-squares optimum (weight decay), what one of its epochs is, and (given L*) where
    L-BFGS's absolute stopping rule stalls it."""
    impl, options, _ = preset(name)
    notes = []
    if impl == "nn-linear":
        cls = optimizer_classes()[options["optimizer"]]
        decay = inspect.signature(cls.__init__).parameters.get("weight_decay")
        decay = options.get("optimizer_args", {}).get("weight_decay", decay.default if decay else 0)
        if decay:
            notes.append(f"weight decay {decay:g} (torch's default) pulls the weights toward 0: its optimum is not "
                         "the least-squares one, so the excess loss stalls above 0 (weight_decay=0 compares the "
                         "method alone)")  # fmt: skip
        if options["optimizer"] == "lbfgs":
            notes.append("an epoch is one step() of up to max_iter = 20 loss evaluations, so its first epochs cost "
                         "more than the budget's average")  # fmt: skip
            stall = lbfgs_stall_note(name, optimum_loss)
            notes += [stall] if stall else []
    return "; ".join(notes)


def lbfgs_stall_note(name: str, optimum_loss: float | None) -> str:
    """Why L-BFGS's final loss zig-zags over lr: its stopping rule is an absolute loss change."""
    impl, options, _ = preset(name)
    if impl != "nn-linear" or options["optimizer"] != "lbfgs" or not optimum_loss:
        return ""
    change = options.get("optimizer_args", {}).get("tolerance_change", LBFGS_TOLERANCE_CHANGE)
    return (
        f"L-BFGS's step() also stops once the loss changes by less than tolerance_change = {change:g}, an "
        f"absolute amount ({change / optimum_loss:.1g} of L* here): at some lr it stalls near that, at others "
        "its line search lands on the optimum, hence the zig-zag over lr"
    )


def plan_tuning(config: SweepConfig) -> list[Cell]:
    return [Cell(o, lr, b, 0, "tune") for o in config.optimizers for b in config.batch_sizes for lr in config.lrs]


def plan_seeds(config: SweepConfig, tuned: list[dict[str, Any]]) -> list[Cell]:
    cells = []
    for optimizer in config.optimizers:
        for batch in config.batch_sizes:
            rows = [r for r in tuned if r["optimizer"] == optimizer and r["requested_batch"] == batch]
            lr = best_lr(rows)
            if lr is not None:
                cells += [Cell(optimizer, lr, batch, seed, "seeds") for seed in range(1, config.seeds + 1)]
    return cells


def summarize(rows: list[dict[str, Any]], optimum_loss: float | None = None) -> list[dict[str, Any]]:
    """Per optimizer and batch size, over the seeds of its best lr: the median of each sweep.csv
    column of the same name, and the spread of the time to the target."""
    summary = []
    seeds = [r for r in rows if r["phase"] == "seeds"]
    for key in dict.fromkeys((r["optimizer"], r["requested_batch"]) for r in seeds):
        group = [r for r in seeds if (r["optimizer"], r["requested_batch"]) == key]
        times = np.array([r["time_to_target_s"] for r in group if r["reached"]])
        finals = np.array([r["final_excess_loss"] for r in group])
        summary.append({
            "optimizer": key[0], "batch_size": group[0]["batch_size"], "best_lr": group[0]["lr"],
            "seeds": len(group), "reached": len(times),
            "time_to_target_s": float(np.median(times)) if len(times) else math.nan,
            "time_to_target_iqr_s": float(np.subtract(*np.percentile(times, [75, 25]))) if len(times) else math.nan,
            "time_to_target_q1_s": float(np.percentile(times, 25)) if len(times) else math.nan,
            "time_to_target_q3_s": float(np.percentile(times, 75)) if len(times) else math.nan,
            "epochs_to_target": float(np.median([r["epochs_to_target"] for r in group if r["reached"]]))
            if len(times) else math.nan,
            "final_excess_loss": float(np.nanmedian(finals)) if np.isfinite(finals).any() else math.nan,
            "time_per_epoch_to_target_s": float(np.median(
                [r["time_to_target_s"] / r["epochs_to_target"] for r in group if r["reached"]]
            )) if len(times) else math.nan,
            "time_per_epoch_s": float(np.median([r["time_per_epoch_s"] for r in group])),
            "note": optimizer_note(key[0], optimum_loss),
        })  # fmt: skip
    tuned = {(r["optimizer"], r["requested_batch"]) for r in seeds}
    for key in dict.fromkeys((r["optimizer"], r["requested_batch"]) for r in rows if r["phase"] == "tune"):
        if key not in tuned:  # no usable lr on the grid: say so instead of dropping the optimizer
            group = [r for r in rows if (r["optimizer"], r["requested_batch"]) == key]
            summary.append({"optimizer": key[0], "batch_size": group[0]["batch_size"], "best_lr": math.nan,
                            "seeds": 0, "reached": 0, "note": "every lr on the grid diverged or failed"})  # fmt: skip
    return summary
