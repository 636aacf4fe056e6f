"""Options of the peer implementations (impls/other_libraries.py): torch-free, like every option object."""

from __future__ import annotations

from dataclasses import dataclass

from impls.options import ClosedFormOptions, OptionError

LAPACK_DRIVERS = ("gelsd", "gelsy", "gelss")  # scipy.linalg.lstsq's drivers


@dataclass(frozen=True)
class ScipyLstsqOptions(ClosedFormOptions):
    """`driver`: the LAPACK routine `scipy.linalg.lstsq` calls (SVD divide and conquer, complete
    orthogonal factorisation, plain SVD)."""

    driver: str = "gelsd"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.driver not in LAPACK_DRIVERS:
            raise OptionError(f"scipy-lstsq: driver must be one of {', '.join(LAPACK_DRIVERS)}, got {self.driver!r}")
