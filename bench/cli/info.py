"""`linreg-bench list` and `linreg-bench predict`."""

from __future__ import annotations

import argparse
from dataclasses import fields

import impls
from bench.errors import InputError
from bench.problems.catalogue import CATALOGUE


def command_list(args: argparse.Namespace) -> int:
    """From declarations only: no problem is built, no heavy library imported."""
    print("problems:")
    for name, entry in CATALOGUE.items():
        print(f"  {name:16s} {entry.shape:28s} {entry.description}")
    print(f"  {'--csv PATH':16s} {'':28s} your data: --target COL [--target COL ...], the other columns are features")
    registered = impls.registry.registry()
    print("\nimplementations:")
    for name in impls.available():
        _print_declaration(name, registered[name])
    print('\npeers (other libraries, run by name: --impl NAME; pip install "linreg-bench[peers]"):')
    for name in impls.peers():
        _print_declaration(name, registered[name])
    return 0


def _print_declaration(name: str, declared: impls.Declaration) -> None:
    print(f"  {name:16s} {declared.summary} [{', '.join(declared.devices)}]")
    print(f"  {'':16s} options: {', '.join(option_labels(declared))}")


def option_labels(declared: impls.Declaration) -> list[str]:
    """The options a user can set, with the rules that limit them."""
    labels = []
    for field in fields(declared.Options):
        if field.name in ("optimizer", "optimizer_args") and not declared.takes_optimizer:
            continue  # the hand-written SGD loops refuse them
        labels.append(f"{field.name} (CUDA only)" if field.name == "graph" else field.name)
    return labels


def command_predict(args: argparse.Namespace) -> int:
    import torch  # here, not at the top: `list` needs no torch

    from impls import LinearFit

    if not args.model.is_file():
        raise InputError(f"{args.model}: no such model file")
    try:
        fit = LinearFit.load(args.model)
    except Exception:  # torch.load's own messages ("pop from empty list") say nothing to a user
        raise InputError(
            f"{args.model}: not a model saved by linreg-bench (expected a torch.save file holding "
            "{'weight': (k, d), 'bias': (k,)}, as in a run's models/ folder)"
        ) from None
    try:
        rows = [[float(v) for v in row.split(",")] for row in args.row]
    except ValueError:
        raise InputError(f"inputs must be comma-separated numbers, got {' '.join(args.row)}") from None
    X = torch.tensor(rows, dtype=fit.weight.dtype)
    if X.shape[1] != fit.n_features:
        raise InputError(f"{args.model} expects {fit.n_features} features per row, got {X.shape[1]}")
    print(",".join(fit.target_names or [f"y{j}" for j in range(fit.n_targets)]))  # a CSV header
    for row in fit.predict(X).tolist():
        print(",".join(f"{v:.6g}" for v in row))
    return 0
