"""The result every implementation returns: one shape convention for all of them."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch


@dataclass
class FitFacts:
    """What a solver found that a verdict may depend on, as data: the judge and the reports read
    these, never the notes (which are sentences for people and may be reworded freely)."""

    rank: int | None = None  # the numerical rank the solver that produced the answer found; None: it did not look
    columns: int | None = None  # of how many columns (d, or d + 1 with the intercept's)
    fell_back: bool = False  # a first factorisation gave up and another produced the answer

    @property
    def rank_deficient(self) -> bool:
        return self.rank is not None and self.columns is not None and self.rank < self.columns


@dataclass
class LinearFit:
    """Fitted parameters in the `nn.Linear` / scikit-learn `coef_` convention.

    `weight` is (k, d) and `bias` (k,), so `predict` is `X @ weight.T + bias` whichever
    implementation produced it. `losses` holds the training MSE after each epoch (empty for
    closed forms); `notes` carries what the implementation wants the report to say (a fallback
    it took, a rank it detected) instead of printing it; `facts` the same findings as data.
    """

    weight: torch.Tensor
    bias: torch.Tensor
    losses: list[float] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    feature_names: tuple[str, ...] = ()  # optional: saved with the model, so `predict` can name its outputs
    target_names: tuple[str, ...] = ()
    # What the fit did that its work model depends on (the route `auto` took, the loss evaluations
    # an optimizer made): read by `Implementation.fit_cost`, never by the checks.
    work: dict[str, float | str] = field(default_factory=dict)
    facts: FitFacts = field(default_factory=FitFacts)

    def __post_init__(self) -> None:
        if self.weight.ndim != 2:
            raise ValueError(f"LinearFit.weight must be (k, d), got shape {tuple(self.weight.shape)}")
        if self.bias.shape != (self.weight.shape[0],):
            raise ValueError(
                f"LinearFit.bias must be ({self.weight.shape[0]},) to match weight "
                f"{tuple(self.weight.shape)}, got {tuple(self.bias.shape)}"
            )

    @property
    def n_features(self) -> int:
        return self.weight.shape[1]

    @property
    def n_targets(self) -> int:
        return self.weight.shape[0]

    def predict(self, X: torch.Tensor) -> torch.Tensor:
        """(n, d) -> (n, k), on the parameters' device and dtype."""
        X = torch.as_tensor(X, dtype=self.weight.dtype, device=self.weight.device)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"predict expects X of shape (n, {self.n_features}), got {tuple(X.shape)}")
        return X @ self.weight.T + self.bias

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> LinearFit:
        return LinearFit(
            self.weight.to(device=device, dtype=dtype),
            self.bias.to(device=device, dtype=dtype),
            list(self.losses),
            list(self.notes),
            self.feature_names,
            self.target_names,
            dict(self.work),
            replace(self.facts),
        )

    def save(self, path: str | Path) -> None:
        """The tutorials' format, `torch.save({'weight': w, 'bias': b}, path)`, plus the column names
        where the fit has them (the tutorials' own loading code ignores extra keys)."""
        state: dict = {"weight": self.weight.detach().cpu(), "bias": self.bias.detach().cpu()}
        if self.feature_names:
            state["feature_names"] = list(self.feature_names)
        if self.target_names:
            state["target_names"] = list(self.target_names)
        torch.save(state, path)

    @classmethod
    def load(cls, path: str | Path, map_location: str | torch.device = "cpu") -> LinearFit:
        state = torch.load(path, map_location=map_location, weights_only=True)
        if not isinstance(state, dict) or not {"weight", "bias"} <= state.keys():
            raise ValueError(f"{path}: not a saved LinearFit (expected a dict with 'weight' and 'bias')")
        names = {key: tuple(state[key]) for key in ("feature_names", "target_names") if key in state}
        return cls(state["weight"], state["bias"], **names)
