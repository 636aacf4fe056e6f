"""What each command writes into its `--out` folder: the names `--overwrite` may remove, and
nothing else (a person's own file beside them, or in models/, is left alone)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bench.harness.axes import DEVICES, DTYPE_NAMES

# <impl file stem>-<device>-<dtype>.pt, as `Case.model_name` writes it
RUN_MODEL = re.compile(rf"^.+-({'|'.join(DEVICES)})-({'|'.join(DTYPE_NAMES)})\.pt$")
STREAM_MODEL = re.compile(r"^(closed-form|sgd)-stream\.pt$")
TEMPORARY = re.compile(r"^\..+\.[^.]+\.tmp$")  # bench.atomic's `.<name>.<random>.tmp`


def _with_svg(names: tuple[str, ...]) -> tuple[str, ...]:
    """Every plot is written twice, as PNG and as SVG (bench.reports.figures)."""
    return names + tuple(n.removesuffix(".png") + ".svg" for n in names if n.endswith(".png"))


@dataclass(frozen=True)
class Outputs:
    """A command's files in its folder; `models` the pattern of what it writes under models/;
    `folders` sub-folders that hold its own outputs alone."""

    command: str
    files: tuple[str, ...]
    models: re.Pattern | None = None
    folders: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "files", _with_svg(self.files))


RUN = Outputs(
    "run",
    ("results.csv", "curves.csv", "report.md", "report.html", "machine.json", "run.json",
     "loss_curves.png", "fit_times.png", "data_and_fits.png", "roofline.png"),
    RUN_MODEL,
)  # fmt: skip
STREAM = Outputs("stream", ("stream.csv", "machine.json"), STREAM_MODEL)
SWEEP_FILES = ("sweep.csv", "curves.csv", "summary.csv", "sweep.md", "sweep.html", "excess_vs_epoch.png",
               "excess_vs_seconds.png", "time_to_target.png", "lr_sensitivity.png")  # fmt: skip
SWEEP = Outputs("sweep", SWEEP_FILES, folders=("raw", "standardized"))
COMPARE = Outputs("compare", ("comparison.csv", "comparison.md", "comparison.html", "base.csv", "new.csv",
                              "ab_pairs.png", "ab_pairs.svg"))  # fmt: skip
INSTRUCTIONS = Outputs("ab", ("instructions.csv", "instructions.md", "comparison.csv", "comparison.md",
                              "comparison.html", "base.csv", "new.csv"))  # fmt: skip
CONDITIONING = Outputs("conditioning", ("conditioning.csv", "conditioning.md", "conditioning.png"))
SCALE = Outputs("scale", ("scale.csv", "scale.md", "scale.png", "scale_nproc.csv", "scale_nproc.md",
                          "scale_nproc.png"), folders=("runs",))  # fmt: skip
HISTORY = Outputs("history", ("history.csv", "points.csv", "steps.csv", "accuracy.csv", "history.md", "history.html",
                              "history_overview.png", "history_steps.png"))  # fmt: skip
ALL = (RUN, STREAM, SWEEP, COMPARE, INSTRUCTIONS, CONDITIONING, SCALE, HISTORY)


def known_names() -> set[str]:
    """Every file or folder name some command writes at the top of its folder."""
    names = {"models"}
    for outputs in ALL:
        names.update(outputs.files, outputs.folders)
    return names
