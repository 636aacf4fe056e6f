"""`linreg-bench`: the parser and the exit codes; each group of commands has its own module here.

Exit 0 all passed, 1 a case failed (or a regression, when asked), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import sys

from bench.cli import info, regression, run, studies, sweep
from bench.errors import InputError
from impls import OptionError


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: one line, exit 2
        raise InputError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="linreg-bench", description="Benchmark and compare linear-regression implementations.")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    for module in (run, sweep, regression, studies, info):
        module.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.handler(args)
    except (InputError, OptionError) as exc:
        print(f"linreg-bench: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("linreg-bench: interrupted; every finished case is already written", file=sys.stderr)
        return 130
