"""The harness: problems, timing, checks, runner, reports and the `linreg-bench` command.

It reaches implementations only through the `impls` registry.
"""
