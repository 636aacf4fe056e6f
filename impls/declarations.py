"""What each built-in implementation is — name, summary, options, devices — apart from its code.

`linreg-bench list`, `--help` and option checks read these without importing torch (seconds; docs/measurements.md);
the class named by `target` is imported only when something is fitted. A class takes its
declaration with `class NNLinear(IterativeImplementation, declaration=NN_LINEAR)`, so the
declaration is the one place these facts are written. Plug-ins need none: theirs is read from the
class (`Declaration.of`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from impls.options import (
    ClosedFormOptions,
    GraphedTrainOptions,
    NNLinearOptions,
    NormalEquationOptions,
    SklearnOptions,
    TrainOptions,
)


@dataclass(frozen=True)
class Declaration:
    name: str
    target: str  # "module:Class"
    summary: str
    Options: type = ClosedFormOptions
    devices: tuple[str, ...] = ("cpu", "cuda")
    takes_optimizer: bool = False  # only nn-linear takes torch.optim optimizers and their arguments
    loaded: Any = field(default=None, compare=False, repr=False)  # the class, once imported

    @classmethod
    def of(cls, implementation: type) -> Declaration:
        """A plug-in's declaration, read from its (already imported) class."""
        return cls(
            implementation.name,
            f"{implementation.__module__}:{implementation.__qualname__}",
            implementation.summary,
            implementation.Options,
            tuple(implementation.devices),
            implementation.takes_optimizer,
            loaded=implementation,
        )

    def load(self) -> type:
        if self.loaded is None:
            module, _, attribute = self.target.partition(":")
            object.__setattr__(self, "loaded", getattr(importlib.import_module(module), attribute))
        return self.loaded


MANUAL_AUTOGRAD = Declaration(
    "manual-autograd",
    "impls.manual_autograd:ManualAutograd",
    "d2l from scratch: requires_grad leaf, loss.sum().backward(), param -= lr*grad/B (fast loop)",
    TrainOptions,
)
NN_LINEAR = Declaration(
    "nn-linear",
    "impls.nn_linear:NNLinear",
    "nn.Linear + nn.MSELoss + torch.optim (SGD by default), DataLoader(shuffle=True)",
    NNLinearOptions,
    takes_optimizer=True,
)
NORMAL_EQUATION = Declaration(
    "normal-equation",
    "impls.normal_equation:NormalEquation",
    "closed form on [X 1]: auto (default; Cholesky, svd when ill-conditioned) | svd | qr | lstsq | cholesky",
    NormalEquationOptions,
)
SKLEARN = Declaration(
    "sklearn",
    "impls.sklearn_baseline:SklearnBaseline",
    "scikit-learn LinearRegression (or Ridge, SGDRegressor); CPU, NumPy round trip timed",
    SklearnOptions,
    devices=("cpu",),
)
MANUAL_GRADIENT = Declaration(
    "manual-gradient",
    "impls.manual_gradient:ManualGradient",
    "d2l's analytic gradient formulas, in-place tensor ops into preallocated buffers, no autograd",
    GraphedTrainOptions,
)
D2L_REFERENCE = Declaration(
    "d2l-reference",
    "impls.d2l_reference:D2LReference",
    "d2l from scratch as written: data_iter over a Python list, backward(), param -= lr*grad/B",
    TrainOptions,
)

BUILTIN: tuple[Declaration, ...] = (
    MANUAL_AUTOGRAD, NN_LINEAR, NORMAL_EQUATION, SKLEARN, MANUAL_GRADIENT, D2L_REFERENCE,
)  # fmt: skip
