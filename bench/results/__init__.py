"""Results: the tidy schema, the run folder (atomic, locked, resumable), and reading results back
from run folders and pytest-benchmark JSON."""
