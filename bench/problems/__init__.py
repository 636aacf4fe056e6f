"""Problems: what is fitted. The Problem type, the built-in catalogue (tutorials, synthetic, NIST
StRD with certified values); csv_file reads a user's CSV, chunks streams data larger than memory."""

from bench.problems.catalogue import available, load
from bench.problems.problem import Problem

__all__ = ["Problem", "available", "load"]
