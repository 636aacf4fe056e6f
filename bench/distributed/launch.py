"""`linreg-bench run --nproc N`: the same job `torchrun --standalone --nproc-per-node N -m bench run
...` starts, through torch's own launcher (`torch.distributed.run`, the elastic agent), not a
spawn loop of ours: what runs here on two CPU processes runs the same under torchrun anywhere."""

from __future__ import annotations

import logging
import sys

from bench.errors import InputError


def without_nproc(argv: list[str]) -> list[str]:
    """The command line the ranks run: this one, less `--nproc N` (they are the N)."""
    out, skip = [], False
    for item in argv:
        if skip:
            skip = False
        elif item == "--nproc":
            skip = True
        elif not item.startswith("--nproc="):
            out.append(item)
    return out


def torchrun_arguments(nproc: int) -> list[str]:
    """torchrun's own arguments for this job: one machine, no restarts (a failed rank fails the run).
    The command's arguments are set on the parsed config, never parsed by torchrun's grammar (which
    would read `--n` as an abbreviation of its `--nnodes`)."""
    return ["--standalone", f"--nproc-per-node={nproc}", "--max-restarts=0", "--monitor-interval=0.5",
            "-m", "bench"]  # fmt: skip


def launch(nproc: int, argv: list[str]) -> int:
    """Start `nproc` ranks of this command on this machine and wait; the exit code is the ranks'
    (0, 1 a case failed, 2 bad input), or 1 with one line naming the rank that died."""
    if nproc < 1:
        raise InputError(f"--nproc must be >= 1, got {nproc}")
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import parse_args, run

    # The agent logs each failed rank as an error line; the ranks already said what failed, and a
    # rank that died is named below: one line for the user, not two.
    logging.getLogger("torch.distributed.elastic").setLevel(logging.CRITICAL)
    config = parse_args(torchrun_arguments(nproc))
    config.training_script_args = without_nproc(argv)
    try:
        run(config)
    except ChildFailedError as exc:
        rank, failure = min(exc.failures.items())
        code = failure.exitcode
        if code in (1, 2):  # the ranks said what failed (rank 0 printed it)
            return code
        cause = f"killed by signal {-code}" if code < 0 else f"exit code {code}"
        message = f"linreg-bench: error: rank {rank} died ({cause}); the cases finished before it are kept"
        print(message, file=sys.stderr)
        return 1
    return 0
