"""Regression tracking: comparing two sets of timings, and the same-machine A/B of two revisions."""
