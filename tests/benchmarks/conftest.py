"""The benchmarks use the `linreg_bench` fixture users get from the installed `pytest11` plugin;
imported here so they have it in a checkout whose environment does not carry the entry point yet
(an import, not `pytest_plugins`: the installed plugin and this are then one fixture, not a clash)."""

from bench.pytest_plugin.plugin import linreg_bench

__all__ = ["linreg_bench"]
