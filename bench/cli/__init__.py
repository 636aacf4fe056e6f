"""The `linreg-bench` command: `main` parses and dispatches; one module per group of commands."""

from bench.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
