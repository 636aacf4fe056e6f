"""The harness around `impls`: problems → harness (cases, timing) → judge → results → reports,
with regression tracking, studies and the `linreg-bench` CLI on top (docs/architecture.md).

It reaches implementations only through the `impls` registry.
"""
