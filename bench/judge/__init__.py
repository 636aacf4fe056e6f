"""Judging a fit: the float64 least-squares reference, the recovery checks and their verdict,
and digits of agreement (LRE)."""
