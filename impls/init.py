"""Initial parameters, drawn on the CPU so that one seed gives one start on every device."""

from __future__ import annotations

import torch

from impls.options import OptionError, TrainOptions


def initial_parameters(
    options: TrainOptions,
    d: int,
    k: int,
    dtype: torch.dtype,
    device: torch.device,
    generator: torch.Generator,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight (k, d), bias (k,)) for `options.init` in {normal, randn, zeros}."""
    if options.init == "zeros":
        weight, bias = torch.zeros(k, d, dtype=torch.float64), torch.zeros(k, dtype=torch.float64)
    elif options.init == "randn":
        weight = torch.randn(k, d, generator=generator, dtype=torch.float64)
        bias = torch.randn(k, generator=generator, dtype=torch.float64)
    elif options.init == "normal":  # the d2l default
        weight = torch.normal(0.0, options.init_std, (k, d), generator=generator, dtype=torch.float64)
        bias = torch.zeros(k, dtype=torch.float64)
    else:
        raise OptionError(f"init={options.init!r} means nn.Linear's own initialisation: nn-linear only")
    if not options.fit_intercept:
        bias = torch.zeros(k, dtype=torch.float64)
    return weight.to(device=device, dtype=dtype), bias.to(device=device, dtype=dtype)
