"""`linreg-bench compare` and `linreg-bench ab`: timings side by side, and the regression gate."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

import pandas as pd

import impls
from bench import problems
from bench.cli.written import closing_line
from bench.errors import InputError
from bench.harness.cases import ImplSpec, default_specs
from bench.harness.machine import PROJECT_ROOT
from bench.regression.ab import ABPlan, default_base, exported, resolve_commit, run_ab
from bench.regression.accepted import load_accepted
from bench.regression.compare import (
    NOISE_FACTOR,
    CompareConfig,
    apply_accepted,
    compare,
    machine_differences,
    side_origin,
)
from bench.regression.instructions import CountPlan, compare_counts, count_both
from bench.regression.replicates import SequentialDesign
from bench.reports.ab_plots import ab_pairs_plot
from bench.reports.comparison_report import comparison_markdown
from bench.reports.html import html_page
from bench.reports.instructions_report import instructions_markdown
from bench.results import outputs
from bench.results.readers import LoadedResults, load_runs
from bench.results.store import RunFolder

UNPAIRED_MIN_FACTOR = 1.10  # two runs minutes apart on a shared machine move by tens of per cent
# ab's worker pairs: "slower" when the interval lies above ×1.025. With both sides on one vCPU and
# 5 ms rounds a pair's median log ratio moves ~0.013 (sd), so an A/A is `same` inside ±2.5% in ~7 pairs
# and a 5% slowdown is decided `slower` in ~6 (docs/regression-gates.md: calibration).
PAIRED_MIN_FACTOR = 1.025
INSTRUCTIONS_MIN_FACTOR = 1.01  # A/A here: within 0.3% above 2M instructions a fit, up to 1.05% below
COMPARE_ALPHA = 0.002  # asv's, per case, for several runs a side
AB_ALPHA = 0.05  # over all of ab's looks together: at most one wrong slower/faster in 20 A/B runs


def command_compare(args: argparse.Namespace) -> int:
    base, new = load_runs(args.base), load_runs(args.new)
    return report_comparison(base, new, args)


def report_comparison(base: list[LoadedResults], new: list[LoadedResults], args: argparse.Namespace,
                      design: SequentialDesign | None = None) -> int:  # fmt: skip
    """Print (and with --out, write) the comparison; the exit status is the regression gate. `design`:
    ab's worker pairs (paired); otherwise runs."""
    accepted = load_accepted()  # every gate honours it (a bad file fails before any work is shown)
    config = CompareConfig(
        alpha=args.alpha or (AB_ALPHA if design else COMPARE_ALPHA),
        min_factor=args.min_factor or (PAIRED_MIN_FACTOR if design else UNPAIRED_MIN_FACTOR),
        noise=getattr(args, "noise", None) or NOISE_FACTOR,
        paired=design is not None,
        design=design or SequentialDesign(),
    )
    comparison = apply_accepted(compare(base, new, config), accepted)
    if not len(comparison):
        raise InputError(f"{base[0].origin} and {new[0].origin}: no case to compare")
    warnings = machine_differences(base[0].machine, new[0].machine)
    origins = (side_origin(base), side_origin(new))
    text = comparison_markdown(comparison, *origins, warnings, config, (base[0].machine, new[0].machine))
    print(text)
    if args.out is not None:
        with RunFolder(args.out).locked() as folder:
            folder.claim(outputs.COMPARE, args.overwrite)
            folder.write_frame("comparison.csv", comparison)
            if design is not None and ab_pairs_plot(comparison, base[0].frame, new[0].frame, design.factor,
                                                    folder.root / "ab_pairs.png"):  # fmt: skip
                text += "\n![A/B worker pairs: each pair's median ratio, the interval, the same band](ab_pairs.png)\n"
            folder.write_text("comparison.md", text)
            page_data = {"comparison": comparison, "base": base[0].frame, "new": new[0].frame}
            folder.write_text("comparison.html", html_page(text, folder.root, "linreg-bench compare", page_data))
            folder.write_frame("base.csv", pd.concat([run.frame for run in base]))
            folder.write_frame("new.csv", pd.concat([run.frame for run in new]))
        print(closing_line(args.out), file=sys.stderr)
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
    design = SequentialDesign(alpha=args.alpha or AB_ALPHA, factor=args.min_factor or PAIRED_MIN_FACTOR,
                              max_pairs=args.max_pairs)  # fmt: skip
    options = {"slowdown": slowdown, "threads": args.threads, "design": design}
    if args.processes is not None:
        plan_ = ABPlan.fixed(cases, args.rounds, args.processes, **options)
        how = f"{args.processes} worker pairs of {plan_.rounds_per_pair} interleaved rounds, judged once"
    else:
        plan_ = ABPlan(cases, rounds_per_pair=args.rounds_per_pair, **options)
        how = f"worker pairs added until each case is decided (at most {design.max_pairs})"
    base_rev, why = (resolve_commit(args.base), "given") if args.base else default_base()
    short = base_rev[:12]
    print(f"A/B: base {short} ({why}) vs new = the working tree, {how}", file=sys.stderr)
    with exported(base_rev) as base_root:
        base, new = run_ab(base_root, PROJECT_ROOT, plan_, (f"base {short}", "working tree"))
    if slowdown:  # say it: a report read later must not pass an injected slowdown off as the code's
        injected = ", ".join(f"{name} ×{factor:g}" for name, factor in slowdown.items())
        print(f"A/B: slowdown injected on the new side (gate check, not the code): {injected}", file=sys.stderr)
        new = replace(new, origin=f"{new.origin} + injected slowdown {injected}")
    return report_comparison([base], [new], args, design=plan_.design)


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
    text = instructions_markdown(comparison, (f"base {short}", new_label), min_factor, plan.number, plan.counts, stale)
    print(text)
    if args.out is not None:
        with RunFolder(args.out).locked() as folder:
            folder.claim(outputs.INSTRUCTIONS, args.overwrite)
            folder.write_frame("instructions.csv", comparison)
            folder.write_text("instructions.md", text)
        print(closing_line(args.out), file=sys.stderr)
    return 1 if args.fail_on_regression and comparison["regression"].any() else 0
