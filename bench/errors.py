"""Errors the CLI turns into a one-line message and exit status 2."""


class InputError(ValueError):
    """Bad input data or usage; the message names what is wrong and where."""
