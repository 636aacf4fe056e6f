"""The axes a case varies along, by name: torch-free, so the CLI grammar can offer them as choices
without importing torch (`cases` maps the names to torch dtypes)."""

DTYPE_NAMES = ("float32", "float64")
DEVICES = ("cpu", "cuda")
