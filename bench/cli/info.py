"""`linreg-bench list` and `linreg-bench predict`."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path

import torch

import impls
from bench import problems
from bench.errors import InputError
from impls import LinearFit


def add_parsers(commands: argparse._SubParsersAction) -> None:
    list_cmd = commands.add_parser("list", help="the built-in problems and the implementations")
    list_cmd.set_defaults(handler=command_list)

    predict = commands.add_parser("predict", help="load a saved model and predict for new inputs")
    predict.add_argument("model", type=Path, help="a models/*.pt file written by `run`")
    predict.add_argument("row", nargs="+", help="one input row as comma-separated numbers (repeatable)")
    predict.set_defaults(handler=command_predict)


def command_list(args: argparse.Namespace) -> int:
    print("problems:")
    for name in problems.available():
        doc = "n, d, k, noise, seed" if name == "synthetic" else problems.load(name).description
        print(f"  {name:16s} {doc}")
    print("  --csv PATH       your data: --target COL [--target COL ...], the other columns are features")
    print("\nimplementations:")
    for name in impls.available():
        cls = impls.implementation_class(name)
        devices = ", ".join(cls.devices)
        print(f"  {name:16s} {cls.summary} [{devices}]")
        options = ", ".join(f.name for f in fields(cls.Options))
        print(f"  {'':16s} options: {options}")
    return 0


def command_predict(args: argparse.Namespace) -> int:
    if not args.model.is_file():
        raise InputError(f"{args.model}: no such model file")
    try:
        fit = LinearFit.load(args.model)
    except Exception as exc:
        raise InputError(f"{args.model}: cannot load ({exc})") from None
    try:
        rows = [[float(v) for v in row.split(",")] for row in args.row]
    except ValueError:
        raise InputError(f"inputs must be comma-separated numbers, got {' '.join(args.row)}") from None
    X = torch.tensor(rows, dtype=fit.weight.dtype)
    if X.shape[1] != fit.n_features:
        raise InputError(f"{args.model} expects {fit.n_features} features per row, got {X.shape[1]}")
    for row in fit.predict(X).tolist():
        print(",".join(f"{v:.6g}" for v in row))
    return 0
