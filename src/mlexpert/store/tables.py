"""The store's tables: the model registry, the prediction log and outcome feedback.

One schema for SQLite (the embedded default) and PostgreSQL. JSON values are stored as
text (portable, and read back in bulk by :mod:`mlexpert.monitoring`); times in the logs are
UNIX seconds (float), in the registry ISO-8601 UTC strings.
"""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Column, Float, Index, Integer, MetaData, String,
                        Table, Text, UniqueConstraint)

metadata = MetaData()
_ID = BigInteger().with_variant(Integer, "sqlite")  # SQLite autoincrements INTEGER keys only

STAGES = ("candidate", "champion", "archived")

model_versions = Table(
    "model_versions", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer, nullable=False),
    Column("stage", String(20), nullable=False),
    Column("path", Text, nullable=False),            # NAME/VERSION, relative to the registry root
    Column("created_at", String(40), nullable=False),
    Column("created_by", String(200), nullable=False),
    Column("data_fingerprint", String(64)),
    Column("parent_version", Integer),
    Column("task", String(20)),
    Column("metric", String(40)),
    Column("cv_score", Float),
    Column("metrics", Text),                         # JSON: evaluation summary
    Column("settings", Text),                        # JSON: the fit settings (for retraining)
    Column("checksum", String(64)),                  # SHA-256 of the directory's checksums.sha256
    Column("shadow", Boolean, nullable=False, default=False),
    Column("note", Text),
    UniqueConstraint("name", "version", name="uq_model_versions_name_version"),
)

registry_events = Table(
    "registry_events", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False),
    Column("version", Integer),
    Column("action", String(40), nullable=False),    # register, promote, rollback, archive, delete, shadow, retrain
    Column("from_stage", String(20)),
    Column("to_stage", String(20)),
    Column("at", String(40), nullable=False),
    Column("by", String(200), nullable=False),
    Column("evidence", Text),                        # JSON
    Index("ix_registry_events_name", "name", "id"),
)

# one row per model name; ``generation`` grows with every change of that name's versions
# or stages, which is what a server polls to reload without downtime
registry_heads = Table(
    "registry_heads", metadata,
    Column("name", String(200), primary_key=True),
    Column("generation", Integer, nullable=False, default=0),
)

prediction_log = Table(
    "prediction_log", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False),
    Column("row", Integer, nullable=False),          # position of the record in its request
    Column("ts", Float, nullable=False),             # UNIX seconds
    Column("model", String(200), nullable=False),
    Column("version", String(64), nullable=False),
    Column("latency_ms", Float),
    Column("inputs", Text, nullable=False),          # JSON object: the record as received
    Column("prediction", Text, nullable=False),      # JSON value
    Column("probabilities", Text),                   # JSON object label -> probability, or null
    Column("shadow", Boolean, nullable=False, default=False),
    Column("source", String(16), nullable=False),    # api, v2, batch
    Index("ix_prediction_log_request", "request_id", "row"),
    Index("ix_prediction_log_model_ts", "model", "ts"),
    Index("ix_prediction_log_model_id", "model", "id"),
)

feedback = Table(
    "feedback", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("request_id", String(128), nullable=False),
    Column("row", Integer, nullable=False),
    Column("actual", Text, nullable=False),          # JSON value: the true label or value
    Column("ts", Float, nullable=False),
    Column("source", String(16), nullable=False),    # api, file
    Index("ix_feedback_request", "request_id", "row"),
)
