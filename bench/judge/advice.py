"""What to change when an iterative fit is not recovered: a verdict that says what would help.

Read from the training losses the fit recorded per epoch: a loss still falling means the budget
ran out (more epochs, or a larger learning rate); a loss that stopped falling above the optimum is
minibatch SGD's noise floor at a constant learning rate (a smaller learning rate or a larger
batch). With several ranks the batch is per rank: N ranks at batch B take the steps of one
process at batch N·B, so an epoch has N times fewer updates (docs/judging.md, "Data-parallel batches").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bench.judge.checks import Verdict

STILL_FALLING = 1e-3  # a last epoch that cut the loss by more than 0.1% had not converged
MAX_EPOCH_FACTOR = 1000  # beyond this many times the budget, an extrapolated epoch count means nothing


@dataclass(frozen=True)
class Training:
    """The settings an iterative fit ran with, as the harness configured them."""

    epochs: int
    lr: float
    batch_size: int
    world_size: int = 1


def advice(verdict: Verdict, losses: list[float], optimum_mse: float | None, training: Training) -> str | None:
    """One sentence for a `not-recovered` iterative fit, or None when there is nothing to say."""
    if verdict.status != "not-recovered" or len(losses) < 2:
        return None
    last, before = float(losses[-1]), float(losses[-2])
    if not (math.isfinite(last) and math.isfinite(before)):
        return None
    ranks = _ranks_sentence(training)
    drop = (before - last) / last if last > 0 else 0.0
    if drop > STILL_FALLING:
        epochs = _epochs_needed(verdict, losses, optimum_mse, training.epochs)
        more = f"--epochs {epochs}" if epochs is not None else "more --epochs"
        fell = f"{before / last:.3g}× lower" if drop >= 1 else f"{100 * drop:.2g}% lower"
        return (
            f"the training loss was still falling ({fell} in the last of {training.epochs} epochs): "
            f"{more} or a larger --lr (now {training.lr:g}) would help{ranks}"
        )
    return (
        f"the training loss had stopped falling (excess loss {verdict.excess_loss:.3g}): minibatch SGD at a constant "
        f"learning rate settles at a noise floor that grows with lr/batch; a smaller --lr (now {training.lr:g}) or a "
        f"larger --batch-size (now {training.batch_size}) would lower it{ranks}"
    )


def _ranks_sentence(training: Training) -> str:
    if training.world_size <= 1:
        return ""
    n, b = training.world_size, training.batch_size
    return (
        f"; with {n} ranks at --batch-size {b} each the global batch is {n * b}: this is the one-process run at "
        f"batch {n * b}, with {n}× fewer updates per epoch"
    )


def _epochs_needed(verdict: Verdict, losses: list[float], optimum_mse: float | None, epochs: int) -> int | None:
    """Extrapolated from the last epoch's linear rate: the excess loss must shrink by
    (distance / tolerance)² to bring the fit inside the optimum's ellipsoid."""
    if optimum_mse is None or not (verdict.opt_distance_se > verdict.opt_tol_se > 0):
        return None
    excess_now, excess_before = losses[-1] - optimum_mse, losses[-2] - optimum_mse
    if not (0 < excess_now < excess_before):
        return None
    rate = excess_now / excess_before
    needed = math.log((verdict.opt_tol_se / verdict.opt_distance_se) ** 2) / math.log(rate)
    total = epochs + math.ceil(needed)
    return total if total <= MAX_EPOCH_FACTOR * epochs else None
