"""Errors the CLI turns into a one-line message and exit status 2."""


class InputError(ValueError):
    """Bad input data or usage; the message names what is wrong and where."""


def one_line(exc: BaseException) -> str:
    """`Type: message` on one line: how an error becomes a row's reason or a rank's last word."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"
