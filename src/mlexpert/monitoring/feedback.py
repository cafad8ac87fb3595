"""Outcome feedback: the true label (or value) of a logged prediction, by request id and row.

Feedback rows are appended, never updated: when the same prediction gets several
outcomes, the latest one counts (readers join on the highest feedback id).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import pandas as pd
from sqlalchemy import and_, func, insert, select

from ..exceptions import DataError
from ..store import Store
from ..store.tables import feedback, prediction_log

MAX_ID = 128


def check_items(items: list[dict]) -> list[dict]:
    """Validate feedback items ``{"request_id", "actual", "row" (default 0)}``; one-line errors."""
    rows = []
    for i, item in enumerate(items):
        where = f"feedback item {i}"
        if not isinstance(item, dict):
            raise DataError(f"{where} is not an object; send {{\"request_id\": ..., \"actual\": ...}}.")
        unknown = set(item) - {"request_id", "row", "actual"}
        if unknown:
            raise DataError(f"{where} has unknown fields {sorted(unknown)}; use request_id, row, actual.")
        rid, row, actual = item.get("request_id"), item.get("row", 0), item.get("actual")
        if not isinstance(rid, str) or not 0 < len(rid) <= MAX_ID:
            raise DataError(f"{where}: request_id must be the non-empty string returned with the "
                            f"prediction (at most {MAX_ID} characters).")
        if isinstance(row, bool) or not isinstance(row, int) or row < 0:
            raise DataError(f"{where}: row must be an integer >= 0 (the record's position in its "
                            "request; 0 for a single record).")
        if actual is None or isinstance(actual, (dict, list)) or (
                isinstance(actual, float) and not math.isfinite(actual)):
            raise DataError(f"{where}: actual must be the true label or a finite number.")
        rows.append({"request_id": rid, "row": row, "actual": json.dumps(actual)})
    return rows


def record_feedback(store: Store, items: list[dict], *, source: str = "api") -> dict:
    """Store outcomes; returns how many were received and how many match a logged prediction."""
    rows = check_items(items)
    if not rows:
        return {"received": 0, "matched": 0}
    now = time.time()
    for row in rows:
        row.update(ts=now, source=source)
    with store.write() as conn:
        first = (conn.execute(select(func.max(feedback.c.id))).scalar() or 0)
        conn.execute(insert(feedback), rows)
        matched = conn.execute(
            select(func.count(func.distinct(feedback.c.id)))
            .select_from(feedback.join(prediction_log, and_(
                prediction_log.c.request_id == feedback.c.request_id,
                prediction_log.c.row == feedback.c.row, prediction_log.c.shadow.is_(False))))
            .where(feedback.c.id > first)).scalar()
    return {"received": len(rows), "matched": int(matched or 0)}


def read_feedback_file(path: str | Path, *, actual: str | None = None,
                       request_id: str = "request_id", row: str = "row") -> list[dict]:
    """Feedback items from a table with request ids, (optional) rows and true outcomes."""
    from ..data.ingest import read_table

    frame = read_table(path)
    if request_id not in frame.columns:
        raise DataError(f"{Path(path).name} has no {request_id!r} column; it needs the request id "
                        "returned with each prediction (or name the column with --request-id).")
    others = [c for c in frame.columns if c not in (request_id, row)]
    if actual is None:
        actual = "actual" if "actual" in frame.columns else (others[0] if len(others) == 1 else None)
    if actual is None or actual not in frame.columns:
        raise DataError(f"Cannot tell which column of {Path(path).name} holds the true outcome "
                        f"(columns: {list(frame.columns)}); name it with --actual COLUMN.")
    frame = frame[frame[actual].notna()]
    rows = frame[row].astype("int64") if row in frame.columns else pd.Series(0, index=frame.index)
    return [{"request_id": str(r), "row": int(n), "actual": _plain(a)}
            for r, n, a in zip(frame[request_id], rows, frame[actual])]


def _plain(value):
    return value.item() if hasattr(value, "item") else value
