"""`linreg-bench`: parse, import the one command's module, run it, and map errors to exit codes.

Exit 0 all passed, 1 a case failed (or a regression, when asked), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
import time

from bench.atomic import recording
from bench.cli import parsers
from bench.distributed.world import is_secondary_rank
from bench.errors import InputError
from bench.files import os_error_line
from impls import OptionError

KEPT = "every file written before it is kept whole (writes are atomic), and so is every finished case"
SECONDARY_RANK_GRACE_S = 2.0  # seen under load: rank 0 stopped by the launcher before it printed the error


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's own usage errors: one line, exit 2
        raise InputError(message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="linreg-bench", description="Benchmark and compare linear-regression implementations.")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    for add in (parsers.add_run_commands, parsers.add_sweep_commands, parsers.add_regression_commands,
                parsers.add_studies_commands, parsers.add_info_commands):  # fmt: skip
        add(commands)
    return parser


def handler(name: str):
    """ "module:function" in bench/cli: imported only for the command that runs."""
    module, _, function = name.partition(":")
    return getattr(importlib.import_module(f"bench.cli.{module}"), function)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so every `finally` runs: the lock is released and
    removed, and nothing half-written is left (a plain SIGTERM would skip them)."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> int:
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return _main(argv)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        args.argv = list(sys.argv[1:] if argv is None else argv)  # `--nproc` relaunches this command line
        with recording():  # each command's closing line names what it wrote (bench/cli/written.py)
            return handler(args.handler)(args)
    except (InputError, OptionError) as exc:
        if not is_secondary_rank():  # every rank of a torchrun job meets the same error: rank 0 says it
            print(f"linreg-bench: error: {exc}", file=sys.stderr)
        else:  # the launcher stops every rank once one exits: leave after rank 0 has said it
            if threading.current_thread() is threading.main_thread():
                signal.signal(signal.SIGTERM, signal.SIG_DFL)  # that stop is expected: no "terminated" here
            time.sleep(SECONDARY_RANK_GRACE_S)
        return 2
    except OSError as exc:  # the file system said no (a full disk, a lost permission) while writing
        print(f"linreg-bench: error: {os_error_line(exc, KEPT)}", file=sys.stderr)
        return 2
    except Terminated:
        print("linreg-bench: terminated; every finished case is already written", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        print("linreg-bench: interrupted; every finished case is already written", file=sys.stderr)
        return 130
