"""Showing results: one module per report (run, comparison, sweep) and per family of plots,
all drawn from the tidy tables."""
