"""The model registry: named, versioned model directories with stages and a history.

``ROOT/NAME/VERSION/`` holds the models (the layout ``mlexpert serve ROOT`` serves); the
store (SQLite ``ROOT/mlexpert.db`` by default, or PostgreSQL) holds each version's stage
(candidate, champion, archived), lineage and every change as an event. See docs/registry.md.
"""

from .registry import PAUSE_ENV, Registry
from .versions import VersionInfo

__all__ = ["Registry", "VersionInfo", "PAUSE_ENV"]
