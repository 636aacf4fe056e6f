"""Regression tracking over commits: gather stored runs, order them by git history, find steps."""
