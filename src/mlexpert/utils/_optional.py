"""Late imports of optional libraries with an install hint."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from ..exceptions import MissingDependencyError


def import_optional(name: str, *, extra: str | None = None, caller: str | None = None) -> ModuleType:
    """Import ``name`` or raise :class:`MissingDependencyError` naming the extra to install."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        who = f"{caller} requires" if caller else "This feature requires"
        hint = f"pip install 'mlexpert[{extra}]'" if extra else f"pip install {name}"
        raise MissingDependencyError(f"{who} {name}. Install it with `{hint}`.") from exc


def is_available(name: str) -> bool:
    """Whether ``name`` can be imported (without importing anything else)."""
    return importlib.util.find_spec(name) is not None
