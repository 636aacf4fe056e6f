"""The run loop: each case of a session set up, timed, judged, handed on, in a world of one rank
or N (`harness.ranks`). A failing case never stops the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

import torch

from bench.errors import one_line
from bench.harness.cases import Case
from bench.harness.clocks import cross_check_clocks
from bench.harness.preparation import PreparedCase, base_row, prepare
from bench.harness.ranks import RECORD, Timed
from bench.harness.roofline import Peaks, peaks_key, roofline_figures
from bench.harness.session import Session
from bench.harness.timing import Timing
from bench.judge.advice import Training, advice
from bench.judge.checks import judge
from bench.judge.reference import Reference, reference_solution
from bench.problems.problem import Problem
from impls import LinearFit


@dataclass
class Outcome:
    """One finished case: its row for results.csv, and the fit when there is one."""

    case: Case
    row: dict[str, Any]
    fit: LinearFit | None = None
    losses: list[float] = field(default_factory=list)


def conclude(
    problem: Problem,
    prepared: PreparedCase,
    reference: Reference,
    fit: LinearFit,
    timing: Timing | None,
    peaks: Peaks | None = None,
) -> Outcome:
    """Judge the fit against its own objective and complete the row (times only when this harness
    measured them); a not-recovered iterative fit also says what would help."""
    objective = prepared.impl.objective()
    verdict = judge(fit, problem, reference, prepared.case.dtype, prepared.row["fit_intercept"], objective)
    said = [verdict.reason, _advice(verdict, fit, reference, prepared, objective), *fit.notes]
    if not objective.declared:
        said.append(f"judged as iterative least squares: {prepared.case.spec.name} declares no objective()")
    row = {**prepared.row, **verdict.figures(), "reason": "; ".join(filter(None, said))}
    for once in ("capture_s", "compile_s"):  # graph / compile: paid once per case, outside the timed rounds
        if once in fit.work:
            row[once] = fit.work[once]
    if timing is not None:
        row.update(
            time_median_s=timing.median,
            time_iqr_s=timing.iqr,
            rounds=timing.rounds,
            threads=timing.threads,
            time_samples_s=" ".join(f"{t:.6g}" for t in timing.samples),
        )
        if peaks is not None:
            impl, dtype = prepared.impl, prepared.case.dtype
            row.update(roofline_figures(impl, dtype, problem.shape, timing.median, peaks, fit))
    saved = replace(fit.to("cpu"), feature_names=problem.feature_names, target_names=problem.target_names)
    return Outcome(prepared.case, row, saved, list(fit.losses))


def _advice(verdict, fit: LinearFit, reference: Reference, prepared: PreparedCase, objective) -> str | None:
    """What a not-recovered iterative fit should change; the loss floor is least squares' own only
    for an unweighted least-squares objective (read from the objective, never from its label)."""
    row = prepared.row
    if "epochs" not in row or not fit.losses:
        return None
    training = Training(row["epochs"], row["lr"], row["batch_size"], int(row.get("world_size", 1)))
    plain = prepared.sample_weight is None and not objective.penalised
    optimum_mse = reference.mse if plain else None
    return advice(verdict, list(fit.losses), optimum_mse, training)


def run_case(session: Session, case: Case) -> Outcome | None:
    """One case on every rank of the session's world; rank 0 gets its Outcome, the other ranks
    None once it is timed (rank 0 alone judges and keeps the rows). What the world counts as
    ending the run (a rank that died, shards no fit can combine) propagates; anything else the
    case raised is its `error` row."""
    world, problem = session.world, session.problem
    try:
        prepared = prepare(problem, case, dict(session.overrides), session.fit_intercept)
        prepared.row.update(world.row)  # before judging: the advice reads world_size
        reason = prepared.skip_reason or world.skip_reason(prepared.impl, problem, case.device)
        if reason is not None:
            return Outcome(case, {**prepared.row, "status": "skipped", "reason": reason})
        timed = world.timed(prepared, problem, session.timing)
        return _concluded(session, prepared, timed) if world.is_root else None
    except world.stops_the_run:
        raise
    except torch.cuda.OutOfMemoryError:
        torch.cuda.empty_cache()
        return _failed(session, case, "out of memory")
    except Exception as exc:  # a broken implementation is a result, not a crash of the run
        return _failed(session, case, one_line(exc))


def _concluded(session: Session, prepared: PreparedCase, timed: Timed) -> Outcome:
    """Rank 0's part of a timed case: the roofline peaks, the verdict, the world's columns, and in
    one process the CUDA clocks cross-checked."""
    case, impl = prepared.case, prepared.impl
    peaks = session.peaks(case.device, *peaks_key(impl, case.dtype)) if session.peaks is not None else None
    outcome = conclude(session.problem, prepared, session.reference, timed.fit, timed.timing, peaks)
    outcome.row.update(timed.row)
    if session.world.cross_checks_clocks and torch.device(case.device).type == "cuda":
        outcome.row.update(cross_check_clocks(prepared.fit, case.device, timed.timing, outcome.row["reason"]))
    return outcome


def _failed(session: Session, case: Case, reason: str) -> Outcome:
    row = {**base_row(session.problem, case, session.fit_intercept), **session.world.row}
    return Outcome(case, {**row, "status": "error", "reason": reason})


def run(session: Session, on_outcome: Callable[[Outcome], None] | None = None) -> list[Outcome]:
    """Every pending case of `session` in order, on every rank of its world; rank 0 records each
    as soon as it is finished (`on_outcome`: persist it) as one step of the rank protocol, so a
    failure to record it ends the other ranks at once. Give `session.reference` when the caller
    needs it too: at scale it is a float64 SVD of the data."""
    problem = session.problem
    if session.reference is None and session.world.is_root:
        reference = reference_solution(problem.X, problem.y, session.fit_intercept, problem.sample_weight)
        session = replace(session, reference=reference)
    outcomes: list[Outcome] = []
    for case in session.pending:
        outcome = run_case(session, case)
        session.world.decided(RECORD, partial(_record, outcome, outcomes, on_outcome))
    return outcomes


def _record(outcome: Outcome, outcomes: list[Outcome], on_outcome: Callable[[Outcome], None] | None) -> None:
    outcomes.append(outcome)
    if on_outcome is not None:
        on_outcome(outcome)
