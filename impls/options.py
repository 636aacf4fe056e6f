"""Option objects: configured once, validated once, shared by every implementation."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

INITS = ("normal", "randn", "zeros", "torch")


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
        if not isinstance(self.epochs, int) or self.epochs < 1:
            raise OptionError(f"epochs must be an integer >= 1, got {self.epochs!r}")
        if not self.lr > 0:
            raise OptionError(f"lr must be > 0, got {self.lr!r}")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise OptionError(f"batch_size must be an integer >= 1, got {self.batch_size!r}")
        if self.init not in INITS:
            raise OptionError(f"init must be one of {', '.join(INITS)}, got {self.init!r}")
        if not self.init_std > 0:
            raise OptionError(f"init_std must be > 0, got {self.init_std!r}")


def option_names(options_type: type) -> list[str]:
    return [f.name for f in fields(options_type)]


def build_options(options_type: type, values: dict[str, Any], owner: str) -> Any:
    """Build an options object, naming the owner and the accepted keys on a typo."""
    known = option_names(options_type)
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise OptionError(f"{owner}: unknown option {', '.join(unknown)} (accepted: {', '.join(known)})")
    return options_type(**values)


@dataclass(frozen=True)
class GraphedTrainOptions(TrainOptions):
    """`graph` (CUDA only): the first epoch runs as the plain loop, later ones replay it as one
    captured CUDA graph — the same kernels in the same order, so the same parameters."""

    graph: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if not isinstance(self.graph, bool):
            raise OptionError(f"graph must be true or false, got {self.graph!r}")
