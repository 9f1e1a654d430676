"""Package exports imported on first use, so `w2s --help` does not load torch,
DuckDB or vLLM's client for commands it does not run (PEP 562)."""

from __future__ import annotations

import importlib
from collections.abc import Callable


def exports(package: str, names: dict[str, str]) -> tuple[Callable, Callable]:
    """(__getattr__, __dir__) for a package exporting names from its submodules:
    names maps each exported name to its submodule (".db")."""

    def __getattr__(name: str):
        if name not in names:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(names[name], package), name)
        setattr(importlib.import_module(package), name, value)  # once
        return value

    def __dir__() -> list[str]:
        return sorted(names)

    return __getattr__, __dir__
