"""The HTML pages, opened the way a person opens them: in a real headless browser (Debian's
Chromium), from disk, offline. A JavaScript error or a plot that is not drawn fails the test."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bench.cli import main
from bench.reports.html import html_page
from bench.reports.run_report import implementation_role, roofline_text, skipped_lines
from bench.reports.styles import identical_groups, series_styles

BROWSER = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)),
               None)  # fmt: skip
needs_browser = pytest.mark.skipif(BROWSER is None, reason="no Chromium here (Debian: apt-get install chromium)")
QUICK = ["--rounds", "1", "--min-time", "0", "--warmup", "0"]


def rendered_dom(page: Path, tmp_path: Path) -> str:
    """The page's DOM after its scripts ran, as Chromium serialises it."""
    profile = f"--user-data-dir={tmp_path / 'profile'}"
    done = subprocess.run(
        [BROWSER, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", profile,
         "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page_problems(dom: str) -> list[str]:
    """What a reader would see broken: a script error, scripts that never finished, a plot not drawn."""
    problems = []
    errors = re.search(r'data-js-errors="([^"]*)"', dom)
    if errors:
        problems.append(f"JavaScript error: {errors.group(1)}")
    if 'data-ready="yes"' not in dom:
        problems.append("the page's script did not finish")
    figures = re.findall(r'<figure class="plot"[^>]*>(.*?)</figure>', dom, re.S)
    problems += [
        f"plot {i} has no drawing" for i, body in enumerate(figures) if "<svg" not in body or "<path" not in body
    ]
    problems += [f"missing plot: {name}" for name in re.findall(r"\(plot (\S+) is not beside this page\)", dom)]
    return problems


@pytest.fixture(scope="module")
def default_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("html") / "run"
    assert main(["run", "--out", str(out), *QUICK]) == 0
    return out


@needs_browser
def test_the_default_runs_page_renders_in_a_browser_with_every_plot_and_no_script_error(default_run, tmp_path):
    dom = rendered_dom(default_run / "report.html", tmp_path)
    assert page_problems(dom) == []
    assert len(re.findall(r'<figure class="plot"', dom)) == 4
    assert dom.count('class="filter"') >= 1 and 'title="click to sort"' in dom  # the tables were made interactive


@needs_browser
def test_the_browser_check_sees_a_script_error_and_a_missing_plot(default_run, tmp_path):
    page = (default_run / "report.html").read_text()
    broken = tmp_path / "broken" / "report.html"
    broken.parent.mkdir()
    broken.write_text(page.replace("</main>", "</main><script>undefinedFunction();</script>"))
    assert any("JavaScript error" in p for p in page_problems(rendered_dom(broken, tmp_path)))
    markdown = (default_run / "report.md").read_text()
    lonely = tmp_path / "lonely"
    lonely.mkdir()  # the page made where its plots are not
    (lonely / "report.html").write_text(html_page(markdown, lonely, "t", {}))
    assert "missing plot: loss_curves.png" in page_problems(rendered_dom(lonely / "report.html", tmp_path))


def test_every_series_gets_its_own_look_past_ten():
    names = [f"series {i}" for i in range(40)]
    styles = series_styles(names)
    looks = {(s["color"], s["marker"], s["linestyle"]) for s in styles.values()}
    assert len(looks) == 40
    assert len({s["color"] for s in list(styles.values())[:10]}) == 10
    assert len({(s["color"], s["marker"]) for s in list(styles.values())[:40]}) == 40  # told apart without lines


def test_identical_results_are_drawn_once_under_all_their_names():
    same = np.array([1.0, 0.5, 0.25])
    drawn = identical_groups({"a": same, "b": same.copy(), "c": same * 1.01})
    assert list(drawn) == ["a = b", "c"]
    assert list(identical_groups({"a": same, "c": same * 1.01}, rtol=0.02)) == ["a = c"]


def test_the_tutorial_loops_and_their_fast_forms_are_named():
    assert implementation_role("d2l-reference") == "tutorial loop"
    assert implementation_role("nn-linear") == "tutorial loop"
    assert implementation_role("manual-gradient") == "fast form of d2l-reference"
    assert implementation_role("nn-linear:loader=tensor") == "fast form of nn-linear"
    assert implementation_role("nn-linear:optimizer=adam") == "tutorial loop"  # the loop is the tutorial's
    assert implementation_role("normal-equation") == ""


def test_skipped_cases_fold_into_one_line_per_reason_and_overhead_ratios_are_blank():
    results = pd.DataFrame({
        "impl": ["a", "a", "b", "b", "c"], "device": ["cuda"] * 4 + ["cpu"],
        "dtype": ["float32", "float64"] * 2 + ["x"],
        "status": ["skipped"] * 4 + ["ok"], "reason": ["no GPU"] * 4 + [""],
    })  # fmt: skip
    assert skipped_lines(results) == ["- **4 skipped** (cuda, float32 and float64): no GPU — a, b"]
    assert roofline_text(143000.0) == "" and roofline_text(3.2) == "3.2"


def test_image_links_become_absolute_for_a_ci_job_summary():
    from bench.reports.run_report import plot_links

    assert plot_links(["roofline.png"]) == [
        "![achieved GFLOP/s against arithmetic intensity under this machine's roofs](roofline.png)"
    ]
    assert plot_links(["fit_times.png"], "https://example.org/runs/42/")[0].endswith(
        "(https://example.org/runs/42/fit_times.png)"
    )


def test_no_series_marker_is_a_cross_and_no_series_colour_is_a_reference_colour():
    from matplotlib.colors import to_rgb

    from bench.reports.styles import REFERENCE_COLOURS

    looks = series_styles([f"s{i}" for i in range(60)]).values()
    assert not {look["marker"] for look in looks} & {"x", "X", "+", "P"}  # a cross means "not ok"
    references = {to_rgb(c) for c in REFERENCE_COLOURS}
    assert not {to_rgb(look["color"]) for look in looks} & references  # roofs and targets stand apart
    assert all(len(set(rgb)) > 1 for rgb in (to_rgb(look["color"]) for look in looks))  # and no grey


def test_curves_a_reader_cannot_tell_apart_share_one_line_and_the_title_counts_lines(tmp_path):
    from bench.reports.run_plots import case_group_label, loss_curves
    from bench.reports.styles import coincident_on_log_axis

    same = np.array([1e-1, 1e-3, 1e-4])
    groups = coincident_on_log_axis({"a": same, "b": same * (1 + 1e-6), "c": same * 3}, decades=0.01)
    assert groups == [["a", "b"], ["c"]]
    assert case_group_label([("x", "cpu", "float32"), ("x", "cpu", "float64"), ("y", "cpu", "float32"),
                             ("y", "cpu", "float64")]) == "x, y · cpu · float32, float64"  # fmt: skip
    assert (
        case_group_label([("x", "cpu", "float32"), ("y", "cpu", "float64")]) == "x · cpu · float32\n≈ y · cpu · float64"
    )
    curves = pd.DataFrame([{"impl": impl, "device": "cpu", "dtype": dtype, "epoch": e + 1, "loss": loss * factor}
                           for impl, factor in (("a", 1), ("b", 1 + 1e-7), ("c", 5)) for dtype in ("float32", "float64")
                           for e, loss in enumerate(same)])  # fmt: skip
    loss_curves(curves, 1e-4, tmp_path / "l.png", "t")
    svg = (tmp_path / "l.svg").read_text()
    assert "6 cases, 2 visible curves" in svg and "a, b · cpu · float32, float64" in svg


def test_a_long_text_column_wraps_on_the_page(tmp_path):
    text = "| a | note |\n|---|---|\n| 1 | " + "long words " * 30 + "|\n"
    page = html_page(text, tmp_path, "t", {})
    assert "td.long { white-space: normal" in page and "wrapLongColumns" in page


def test_the_closing_line_names_every_file_written_under_the_folder(tmp_path):
    from bench.atomic import recording, write_text
    from bench.cli.written import closing_line

    with recording():
        write_text(tmp_path / "a.csv", "x")
        write_text(tmp_path / "models" / "m-cpu-float64.pt", "x")
        write_text(tmp_path / "models" / "n-cpu-float64.pt", "x")
        write_text(tmp_path.parent / f"{tmp_path.name}-elsewhere.json", "x")  # not this folder's
        write_text(tmp_path / "a.csv", "y")  # twice: named once
        line = closing_line(tmp_path)
    assert line == f"wrote {tmp_path}/: a.csv, models/*.pt (2 models)"
    assert closing_line(tmp_path) == f"wrote nothing to {tmp_path}/"  # outside a recording


def test_the_report_does_not_repeat_what_the_problem_description_says():
    from bench.problems import builtin
    from bench.reports.run_report import shape_text

    d2l = builtin.d2l()
    assert f"n = {d2l.n}" in d2l.description and shape_text(d2l) == "d = 2, k = 1."  # was "n = 1000. n = 1000"
    crop = builtin.crop_yields()
    assert shape_text(crop) == "n = 15, d = 3, k = 2."
