"""What a problem is: data (float64, CPU), what is known about it, and the tutorial's settings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from bench.problems.certified import Certified

D2L_STYLE = ("manual-autograd", "manual-gradient", "d2l-reference")  # ½ squared error, step lr / B
SIZES = {"small": (1000, 2), "medium": (100_000, 10), "large": (1_000_000, 100)}  # synthetic-SIZE: n, d
D2L_TRAINING = {"lr": 0.03, "batch_size": 10, "epochs": 3, "init": "normal", "init_std": 0.01}


@dataclass(frozen=True)
class Problem:
    """Data (float64, CPU) plus what a case needs to be set up and judged.

    The harness casts and moves the data per case; `training` holds the tutorial's settings for
    iterative implementations (`training_by_impl` per implementation), `known_status` the result
    a tutorial's settings are known to give when it is not `ok`."""

    name: str
    X: torch.Tensor
    y: torch.Tensor
    description: str = ""
    true_weight: torch.Tensor | None = None
    true_bias: torch.Tensor | None = None
    training: dict[str, Any] = field(default_factory=dict)
    training_by_impl: dict[str, dict[str, Any]] = field(default_factory=dict)
    feature_names: tuple[str, ...] = ()
    target_names: tuple[str, ...] = ()
    known_status: dict[str, str] = field(default_factory=dict)
    fit_intercept: bool = True
    certified: Certified | None = None
    sample_weight: torch.Tensor | None = None  # (n,) float64: fit and judge the weighted problem

    @property
    def n(self) -> int:
        return self.X.shape[0]

    @property
    def d(self) -> int:
        return self.X.shape[1]

    @property
    def k(self) -> int:
        return self.y.shape[1]

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n, d, k): rows, features, targets; what the work models (`impls.cost`) are sized by."""
        return self.n, self.d, self.k

    @property
    def has_truth(self) -> bool:
        return self.true_weight is not None

    def expected_status(self, impl_name: str) -> str:
        """The tutorial's known result: `ok` unless the problem documents otherwise."""
        return self.known_status.get(impl_name, "ok")

    def training_for(self, impl_name: str) -> dict[str, Any]:
        """The tutorial's settings for an iterative implementation (per-impl overrides applied)."""
        return {**self.training, **self.training_by_impl.get(impl_name, {})}
