"""Stable names -> implementations; third parties add theirs via an entry point group.

Built-ins are known by their torch-free declarations (impls/declarations.py) and imported only when
their class is asked for; plug-ins are imported when the registry is first read.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any

from impls.declarations import BUILTIN, Declaration
from impls.options import OptionError
from impls.peer_declarations import PEERS

if TYPE_CHECKING:
    from impls.base import Implementation

ENTRY_POINT_GROUP = "linreg_bench.impls"
_PEER_NAMES = tuple(declaration.name for declaration in PEERS)


class UnknownImplementation(OptionError):
    """A name that is neither built in nor registered through the entry point group."""


def _plugins() -> dict[str, Declaration]:
    found = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        from impls.base import Implementation  # only when there is a plug-in: it imports torch anyway

        cls = ep.load()
        if not (isinstance(cls, type) and issubclass(cls, Implementation)):
            raise TypeError(f"entry point {ep.name} = {ep.value} is not an impls.Implementation subclass")
        found[cls.name] = Declaration.of(cls)
    return found


def registry() -> dict[str, Declaration]:
    declared = {declaration.name: declaration for declaration in (*BUILTIN, *PEERS)}
    declared.update({name: d for name, d in _plugins().items() if name not in declared})
    return declared


def available() -> list[str]:
    """The registered names a default run compares, built-ins first, then plug-ins (not the peers)."""
    return [name for name in registry() if name not in _PEER_NAMES]


def peers() -> list[str]:
    """Other libraries' implementations, run by name (impls/peer_declarations.py)."""
    return list(_PEER_NAMES)


def declaration(name: str) -> Declaration:
    """What `list` shows of `name`, without importing its code when it is built in."""
    declared = registry()
    if name not in declared:
        raise UnknownImplementation(f"unknown implementation {name!r} (available: {', '.join(declared)})")
    return declared[name]


def implementation_class(name: str) -> type[Implementation]:
    return declaration(name).load()


def create(name: str, **options: Any) -> Implementation:
    """`create("nn-linear", optimizer="adam", lr=0.1)` -> a configured implementation."""
    return implementation_class(name)(**options)
