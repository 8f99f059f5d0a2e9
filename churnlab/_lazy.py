"""A module imported on first use, for the heavy libraries ``import churnlab`` need not load."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class LazyModule:
    """Stand-in for a module that imports it when one of its attributes is first read.

    ``optimize = LazyModule("scipy.optimize")`` at the top of a module keeps call sites such as
    ``optimize.minimize(...)`` as they are, while scipy.optimize (with scipy.linalg and
    scipy.sparse, about 0.1 s) is imported by the first fit rather than by ``import churnlab``.
    Later reads go through ``sys.modules`` (a dictionary look-up).

    Parameters
    ----------
    name : str
        Absolute name of the module.

    Examples
    --------
    >>> json = LazyModule("json")
    >>> json
    <lazily imported module 'json'>
    >>> json.dumps([1, 2])
    '[1, 2]'
    """

    def __init__(self, name: str):
        self._name = name

    def _load(self) -> ModuleType:
        """The module itself, imported now if it was not before."""
        return importlib.import_module(self._name)

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._load(), attribute)

    def __repr__(self) -> str:
        return f"<lazily imported module {self._name!r}>"
