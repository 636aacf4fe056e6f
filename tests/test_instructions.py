"""The instruction-count gate without running valgrind: the plan, the verdicts, the accepted
regressions file and the refusals. (The real counting runs in `.ci/run` as a gating step.)"""

import pytest

from bench.cli import main
from bench.errors import InputError
from bench.regression import instructions
from bench.regression.accepted import Accepted, load_accepted
from bench.regression.instructions import CountPlan, compare_counts

CASE = {"dataset": "d2l", "impl": "manual-gradient", "device": "cpu", "dtype": "float32"}
OTHER = {**CASE, "impl": "normal-equation"}


def test_injected_work_is_whole_extra_fits_and_a_plan_that_adds_none_is_refused():
    assert CountPlan([CASE], number=50, extra_work={"manual-gradient": 1.02}).extra_fits("manual-gradient") == 1
    assert CountPlan([CASE], number=10, extra_work={"manual-gradient": 1.3}).extra_fits("manual-gradient") == 3
    with pytest.raises(InputError, match=r"round\(1 × 0\.02\) = 0; give --number 50 or more"):
        CountPlan([CASE], number=1, extra_work={"manual-gradient": 1.02})


def test_only_cpu_work_is_counted():
    with pytest.raises(InputError, match="CPU work only"):
        CountPlan([{**CASE, "device": "cuda"}])


def test_verdicts_follow_the_factor_and_an_accepted_entry_lets_only_its_case_through():
    plan = CountPlan([CASE, OTHER, {**CASE, "dataset": "univariate"}, {**CASE, "dataset": "crop-yields"}])
    accepted = [Accepted("d2l normal-equation cpu float32", 1.05, "stable solver", "abc1234")]
    rows = compare_counts(plan, [1000, 1000, 1000, 1000], [1004, 1030, 1030, 900], 1.01, accepted)
    assert list(rows["verdict"]) == ["same", "more", "more", "fewer"]
    assert list(rows["regression"]) == [False, False, True, False]  # univariate is not covered by the d2l entry
    assert rows.loc[1, "accepted"] == "accepted up to ×1.05 (abc1234: stable solver)"
    beyond = compare_counts(CountPlan([OTHER]), [1000], [1060], 1.01, accepted)
    assert bool(beyond.loc[0, "regression"])  # 6% is more than the 5% that was accepted


def write(tmp_path, text):
    path = tmp_path / "accepted-regressions.toml"
    path.write_text(text)
    return path


def test_accepted_file_reads_each_entry(tmp_path):
    path = write(tmp_path, '[[accepted]]\ncase = "d2l sklearn cpu float32"\nfactor = 2\nreason = "r"\ncommit = "c"\n')
    assert load_accepted(path) == [Accepted("d2l sklearn cpu float32", 2.0, "r", "c")]
    assert load_accepted(tmp_path / "absent.toml") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[accepted]]\ncase = 'd2l sklearn cpu float32'\nfactor = 1.1\nreason = 'r'\n", "entry 1: missing commit"),
        ("[[accepted]]\ncase = 'd2l sklearn'\nfactor = 1.1\nreason = 'r'\ncommit = 'c'\n", "entry 1: case must be"),
        (
            "[[accepted]]\ncase = 'd2l sklearn cpu float32'\nfactor = 0.9\nreason = 'r'\ncommit = 'c'\n",
            "factor must be > 1",
        ),
        ("[[accepted]]\ncase = 'd2l sklearn cpu float32'\nfactor = 1.1\nreason = ''\ncommit = 'c'\n", "reason must be"),
        ("[[accepted]]\ncase = 'x y z w'\nfactor = 1.1\nreason = 'r'\ncommit = 'c'\nwho = 1\n", "unknown field who"),
        ("accepted = [", "not valid TOML"),
    ],
)
def test_a_bad_accepted_file_is_one_line_naming_the_file_and_entry(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=message) as caught:
        load_accepted(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_the_project_s_own_accepted_file_is_valid():
    load_accepted()  # the file CI reads: a typo in it must fail here, not in the gating step


def test_without_valgrind_the_reason_is_given_and_the_command_exits_2(monkeypatch, capsys):
    monkeypatch.setattr(instructions.shutil, "which", lambda tool: None)
    assert instructions.unavailable_reason() == "valgrind is not installed (Debian/Ubuntu: apt-get install valgrind)"
    assert main(["ab", "--base", "HEAD", "--measure", "instructions", "--impl", "normal-equation"]) == 2
    assert "--measure instructions: valgrind is not installed" in capsys.readouterr().err


def test_instructions_of_a_cuda_case_are_refused_before_anything_runs(capsys):
    assert main(["ab", "--measure", "instructions", "--device", "cuda"]) == 2
    assert "CPU work only" in capsys.readouterr().err


def test_the_report_says_how_it_counted_and_marks_regressions_and_accepted_entries():
    from bench.reports.instructions_report import instructions_markdown

    accepted = [Accepted("d2l normal-equation cpu float32", 1.05, "stable solver", "abc1234")]
    rows = compare_counts(CountPlan([CASE, OTHER]), [1000, 1000], [1030, 1030], 1.01, accepted)
    text = instructions_markdown(rows, ("base x", "working tree"), 1.01, 1, 3, ["d2l sklearn cpu float32 (c)"])
    assert "1 regression(s)** — instructions of 1 fit(s) per case, the median of 3 callgrind counts" in text
    assert "**more (regression)**" in text and "more, accepted up to ×1.05 (abc1234: stable solver)" in text
    assert "matched no change" in text and "d2l sklearn cpu float32 (c)" in text
