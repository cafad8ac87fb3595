"""Registry of model families, keyed by ``ModelFamily.key``."""

from __future__ import annotations

import importlib

from ..exceptions import InvalidParameterError
from ._base import ModelFamily

_BUILTIN = ("lightgbm", "catboost", "xgboost", "linear", "forest", "knn", "mlp")
_REGISTRY: dict[str, type[ModelFamily]] = {}


def register(cls: type[ModelFamily]) -> type[ModelFamily]:
    """Class decorator adding a family; duplicate keys are rejected."""
    existing = _REGISTRY.get(cls.key)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"Cannot register {cls.__name__}: key {cls.key!r} is already used by {existing.__name__}."
        )
    _REGISTRY[cls.key] = cls
    return cls


def _load_builtins() -> None:
    for module in _BUILTIN:
        importlib.import_module(f".{module}", __package__)


def all_families() -> dict[str, type[ModelFamily]]:
    """Every registered family by key, in priority order."""
    _load_builtins()
    return dict(sorted(_REGISTRY.items(), key=lambda kv: (kv[1].priority, kv[0])))


def get_family(key: str) -> ModelFamily:
    cls = _REGISTRY.get(key)  # registered already: skip loading and sorting (per prediction)
    if cls is None:
        families = all_families()
        if key not in families:
            raise InvalidParameterError(
                f"Unknown model family {key!r}. Known families: {', '.join(families)}."
            )
        cls = families[key]
    return cls()


def resolve_families(requested: tuple[str, ...] | None) -> list[str]:
    """Validate ``requested`` keys (all families when None), keeping priority order."""
    families = all_families()
    if not requested:
        return list(families)
    unknown = [k for k in requested if k not in families]
    if unknown:
        raise InvalidParameterError(
            f"The 'families' parameter has unknown names {unknown}. Known: {', '.join(families)}."
        )
    return [k for k in families if k in requested]
