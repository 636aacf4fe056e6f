"""Data-parallel runs on torch.distributed: the process group (world), timed collectives, the
launcher behind `--nproc`, and the run loop every rank executes in step."""
