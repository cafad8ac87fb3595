"""The store behind the registry, the prediction log and feedback (SQLite or PostgreSQL)."""

from .engine import Store, forget_stores, open_store, redact, store_url
from .tables import STAGES, feedback, metadata, model_versions, prediction_log, registry_events, registry_heads

__all__ = ["Store", "open_store", "forget_stores", "store_url", "redact", "STAGES", "metadata",
           "model_versions", "registry_events", "registry_heads", "prediction_log", "feedback"]
