"""Problems: what is fitted. The Problem type, the built-in catalogue (tutorials, synthetic, NIST
StRD with certified values), a user's CSV, and chunked sources for data larger than memory."""

from bench.problems.catalogue import available, load
from bench.problems.csv_file import load_csv
from bench.problems.problem import Problem

__all__ = ["Problem", "available", "load", "load_csv"]
