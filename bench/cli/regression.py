"""`linreg-bench compare` and `linreg-bench ab`: timings side by side, and the regression gate."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import impls
from bench import problems
from bench.errors import InputError
from bench.harness.cases import ImplSpec, default_specs
from bench.harness.machine import PROJECT_ROOT
from bench.regression.ab import ABPlan, default_base, exported, resolve_commit, run_ab
from bench.regression.accepted import load_accepted
from bench.regression.compare import (
    CompareConfig,
    check_gate_can_fire,
    check_rounds_can_fire,
    compare,
    machine_differences,
)
from bench.regression.instructions import CountPlan, compare_counts, count_both
from bench.reports.comparison_report import comparison_markdown
from bench.reports.html import html_page
from bench.reports.instructions_report import instructions_markdown
from bench.results import outputs
from bench.results.readers import LoadedResults, load_results
from bench.results.store import RunFolder

UNPAIRED_MIN_FACTOR = 1.10  # two runs minutes apart on a shared machine move by tens of per cent
PAIRED_MIN_FACTOR = 1.05  # ab's ABBA pairs: an A/A stays within ~2% here (calibration in README)
INSTRUCTIONS_MIN_FACTOR = 1.01  # A/A here: within 0.3% above 2M instructions a fit, up to 1.05% below


def command_compare(args: argparse.Namespace) -> int:
    base, new = load_results(args.base), load_results(args.new)
    check_gate_can_fire(base, new, args.alpha)  # a verdict that could never be `slower` is not reported
    return report_comparison(base, new, args)


def report_comparison(base: LoadedResults, new: LoadedResults, args: argparse.Namespace, paired: bool = False) -> int:
    """Print (and with --out, write) the comparison; the exit status is the regression gate."""
    config = CompareConfig(
        alpha=args.alpha,
        min_factor=args.min_factor or (PAIRED_MIN_FACTOR if paired else UNPAIRED_MIN_FACTOR),
        paired=paired,
    )
    comparison = compare(base, new, config)
    warnings = machine_differences(base.machine, new.machine)
    text = comparison_markdown(comparison, base.origin, new.origin, warnings, config.alpha, config.min_factor, paired,
                               (base.machine, new.machine))  # fmt: skip
    print(text)
    if args.out is not None:
        with RunFolder(args.out).locked() as folder:
            folder.claim(outputs.COMPARE, args.overwrite)
            folder.write_frame("comparison.csv", comparison)
            folder.write_text("comparison.md", text)
            page_data = {"comparison": comparison, "base": base.frame, "new": new.frame}
            folder.write_text("comparison.html", html_page(text, folder.root, "linreg-bench compare", page_data))
            folder.write_frame("base.csv", base.frame)
            folder.write_frame("new.csv", new.frame)
    return 1 if args.fail_on_regression and comparison["regression"].any() else 0


def command_ab(args: argparse.Namespace) -> int:
    specs = [ImplSpec.parse(text) for text in args.impl] or default_specs()
    datasets = args.dataset or ["d2l"]
    for name in datasets:
        problems.load(name)  # an unknown name fails here, before any process starts
    dtypes = args.dtype or ["float32"]
    slowdown = {}
    for item in args.inject_slowdown:
        name, _, factor = item.partition("=")
        try:
            slowdown[impls.implementation_class(name).name] = float(factor)
        except ValueError:
            raise InputError(f"--inject-slowdown {item}: expected IMPL=FACTOR, e.g. sklearn=1.2") from None
    cases = [{"dataset": d, "impl": s.label, "device": args.device, "dtype": t} for d in datasets for s in specs
             for t in dtypes]  # fmt: skip
    if args.measure == "instructions":
        return ab_instructions(args, CountPlan(cases, number=args.number, counts=args.counts, extra_work=slowdown))
    plan_ = ABPlan(cases, rounds=args.rounds, slowdown=slowdown, threads=args.threads, processes=args.processes)
    check_rounds_can_fire(args.rounds, args.rounds, args.alpha, f"--rounds {args.rounds}", paired=True)
    base_rev, why = (resolve_commit(args.base), "given") if args.base else default_base()
    short = base_rev[:12]
    print(
        f"A/B: base {short} ({why}) vs new = the working tree, {args.rounds} interleaved rounds "
        f"over {args.processes} worker pair(s)",
        file=sys.stderr,
    )
    with exported(base_rev) as base_root:
        base, new = run_ab(base_root, PROJECT_ROOT, plan_, (f"base {short}", "working tree"))
    if slowdown:  # say it: a report read later must not pass an injected slowdown off as the code's
        injected = ", ".join(f"{name} ×{factor:g}" for name, factor in slowdown.items())
        print(f"A/B: slowdown injected on the new side (gate check, not the code): {injected}", file=sys.stderr)
        new = replace(new, origin=f"{new.origin} + injected slowdown {injected}")
    return report_comparison(base, new, args, paired=True)


def ab_instructions(args: argparse.Namespace, plan: CountPlan) -> int:
    """Both revisions counted under callgrind; the gate is the counts against --min-factor, less
    what `accepted-regressions.toml` lets through."""
    accepted = load_accepted()  # a bad file fails now, not after minutes of counting
    base_rev, why = (resolve_commit(args.base), "given") if args.base else default_base()
    short = base_rev[:12]
    print(f"A/B instructions: base {short} ({why}) vs the working tree, {len(plan.cases)} case(s) under callgrind "
          "(a few minutes: torch's import alone is ~2 min under it)", file=sys.stderr)  # fmt: skip
    with exported(base_rev) as base_root:
        base, new = count_both(base_root, PROJECT_ROOT, plan)
    min_factor = args.min_factor or INSTRUCTIONS_MIN_FACTOR
    comparison = compare_counts(plan, base, new, min_factor, accepted)
    new_label = "working tree"
    if plan.extra_work:
        injected = ", ".join(f"{name} +{plan.extra_fits(name)} fit(s)" for name in plan.extra_work)
        new_label += f" + injected work {injected}"
    changed = {case for case, verdict in zip(comparison[["dataset", "impl", "device", "dtype"]].agg(" ".join, axis=1),
                                               comparison["verdict"], strict=True) if verdict == "more"}  # fmt: skip
    stale = [f"{a.case} ({a.commit})" for a in accepted if a.case not in changed]
    text = instructions_markdown(comparison, f"base {short}", new_label, min_factor, plan.number, plan.counts, stale)
    print(text)
    if args.out is not None:
        with RunFolder(args.out).locked() as folder:
            folder.claim(outputs.INSTRUCTIONS, args.overwrite)
            folder.write_frame("instructions.csv", comparison)
            folder.write_text("instructions.md", text)
    return 1 if args.fail_on_regression and comparison["regression"].any() else 0
