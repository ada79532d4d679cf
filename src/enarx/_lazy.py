"""Package facades that import their submodules on first use.

A facade (``from enarx.attestation.snp import Report``) is the public API, but importing a
submodule such as ``enarx.attestation.snp.tsm`` runs the package's ``__init__`` first; an
eager facade would load the whole verifier to reach one constant. Facades therefore list
their names here, import them under ``TYPE_CHECKING`` for the type checker, and resolve them
at run time through :func:`attach`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def attach(package: str, exports: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``: each name loads from ``exports[name]``."""

    def __getattr__(name: str) -> object:
        try:
            module_name = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        value = getattr(importlib.import_module(module_name), name)
        setattr(sys.modules[package], name, value)  # once loaded, an ordinary attribute
        return value

    def __dir__() -> list[str]:
        return sorted(exports)

    return __getattr__, __dir__
