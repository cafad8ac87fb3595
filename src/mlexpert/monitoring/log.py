"""The prediction log: what a server (or batch scoring) predicted, written to the store
in the background so that requests do not wait for the database.

A request hands over its raw JSON body (or a DataFrame) and its outputs; a writer thread
turns them into one row per record and inserts them in batches (every ``flush_s`` seconds
or ``batch_rows`` rows). Sampling is decided per request id (a deterministic hash), so
a sampled request is logged whole, by every worker and for the shadow model alike.
Retention keeps at most ``max_rows`` rows and nothing older than ``max_days``.

Durability: a row is in the store once its batch is committed; a killed process loses at
most the rows still queued (under ``flush_s`` seconds of traffic), never committed ones.
When the store falls behind, the queue is capped at ``max_queue_rows`` and further rows
are dropped and counted rather than slowing requests down.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select

from ..store import Store
from ..store.tables import prediction_log

log = logging.getLogger("mlexpert.monitoring")
RETENTION_EVERY_S = 60.0


@dataclass
class _Entry:
    request_id: str
    model: str
    version: str
    ts: float
    latency_ms: float | None
    records: bytes | list | pd.DataFrame  # the raw JSON body, the records, or a frame
    labels: list
    probabilities: np.ndarray | None
    classes: list
    shadow: bool
    source: str
    first_row: int = 0

    @property
    def n(self) -> int:
        return len(self.labels)


def sampled(request_id: str, rate: float) -> bool:
    """Whether a request is logged at sampling ``rate`` (the same answer in every process)."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    digest = hashlib.blake2b(request_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < rate


class PredictionLogger:
    """Queues predictions and writes them to ``store`` from a background thread."""

    def __init__(self, store: Store, *, sample_rate: float = 1.0, max_rows: int | None = None,
                 max_days: float | None = None, flush_s: float = 0.5, batch_rows: int = 5000,
                 max_queue_rows: int = 200_000):
        self.store, self.sample_rate = store, sample_rate
        self.max_rows, self.max_days = max_rows, max_days
        self.flush_s, self.batch_rows, self.max_queue_rows = flush_s, batch_rows, max_queue_rows
        self.written = self.dropped = self.failed = 0
        self._queue: deque[_Entry] = deque()
        self._queued_rows = 0
        self._cond = threading.Condition()
        self._closed = False
        self._busy = False
        self._last_retention = 0.0
        self._thread = threading.Thread(target=self._run, name="mlexpert-prediction-log", daemon=True)
        self._thread.start()

    def log(self, request_id: str, model: str, version: str, records, labels: list,
            probabilities=None, classes=(), *, latency_ms: float | None = None,
            shadow: bool = False, source: str = "api", first_row: int = 0) -> bool:
        """Queue one request's predictions (rows numbered from ``first_row``); returns
        whether it was sampled and queued."""
        if not len(labels) or not sampled(request_id, self.sample_rate):
            return False
        entry = _Entry(request_id, model, str(version), time.time(), latency_ms, records,
                       list(labels), probabilities, list(classes), shadow, source, first_row)
        with self._cond:
            if self._closed or self._queued_rows + entry.n > self.max_queue_rows:
                self.dropped += entry.n
                return False
            self._queue.append(entry)
            self._queued_rows += entry.n
            if self._queued_rows >= self.batch_rows:
                self._cond.notify()
        return True

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is written (or ``timeout`` passes)."""
        end = time.monotonic() + timeout
        with self._cond:
            self._cond.notify()
            while (self._queue or self._busy) and time.monotonic() < end:
                self._cond.wait(0.05)
            return not self._queue and not self._busy

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued, then stop the writer thread."""
        self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue and not self._closed:
                    self._cond.wait(self.flush_s)
                if self._closed and not self._queue:
                    return
                batch = list(self._queue)
                self._queue.clear()
                self._queued_rows = 0
                self._busy = bool(batch)
            try:
                if batch:
                    self._write(batch)
                self._retain()
            except Exception:  # never let the writer thread die: count, log and go on
                self.failed += sum(e.n for e in batch)
                log.exception("could not write %d logged predictions", sum(e.n for e in batch))
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _write(self, batch: list[_Entry]) -> None:
        rows = [row for entry in batch for row in _rows(entry)]
        for start in range(0, len(rows), self.batch_rows):
            with self.store.write() as conn:
                conn.execute(insert(prediction_log), rows[start:start + self.batch_rows])
        self.written += len(rows)

    def _retain(self) -> None:
        now = time.monotonic()
        if (self.max_rows is None and self.max_days is None) or now - self._last_retention < RETENTION_EVERY_S:
            return
        self._last_retention = now
        prune(self.store, max_rows=self.max_rows, max_days=self.max_days)


class BatchLog:
    """An ``on_chunk`` hook for batch scoring: logs every chunk of one batch request, its
    rows numbered through the whole file."""

    def __init__(self, logger: PredictionLogger, request_id: str, model: str, version: str,
                 pipeline, source: str = "batch"):
        self.logger, self.request_id, self.model, self.version = logger, request_id, model, version
        self.features = pipeline.schema.features
        self.classes = list(pipeline.task.classes) if pipeline.task.is_classification else []
        self.source, self.rows = source, 0

    def __call__(self, frame: pd.DataFrame, labels, outputs) -> None:
        probs = np.asarray(outputs, dtype=float) if self.classes else None
        self.logger.log(self.request_id, self.model, self.version, frame[self.features].copy(),
                        [_plain(v) for v in labels], probs, self.classes, source=self.source,
                        first_row=self.rows)
        self.rows += len(frame)


def prune(store: Store, *, max_rows: int | None = None, max_days: float | None = None) -> int:
    """Delete logged predictions beyond the retention limits; returns how many went."""
    removed = 0
    with store.write() as conn:
        if max_days is not None:
            cutoff = time.time() - max_days * 86400
            removed += conn.execute(delete(prediction_log).where(prediction_log.c.ts < cutoff)).rowcount
        if max_rows is not None:
            newest = conn.execute(select(func.max(prediction_log.c.id))).scalar()
            if newest is not None:
                # ids only grow, so the newest max_rows rows are those above this id
                keep_from = conn.execute(select(prediction_log.c.id).order_by(prediction_log.c.id.desc())
                                         .offset(max_rows).limit(1)).scalar()
                if keep_from is not None:
                    removed += conn.execute(delete(prediction_log)
                                            .where(prediction_log.c.id <= keep_from)).rowcount
    return removed


def _rows(entry: _Entry) -> list[dict]:
    records = _record_texts(entry.records, entry.n)
    probs = entry.probabilities
    labels = [str(c) for c in entry.classes]
    out = []
    for i, label in enumerate(entry.labels):
        p = None
        if probs is not None:
            p = json.dumps({c: _finite(v) for c, v in zip(labels, probs[i].tolist())})
        out.append({"request_id": entry.request_id, "row": entry.first_row + i, "ts": entry.ts, "model": entry.model,
                    "version": entry.version, "latency_ms": entry.latency_ms, "inputs": records[i],
                    "prediction": json.dumps(_plain(label)), "probabilities": p,
                    "shadow": entry.shadow, "source": entry.source})
    return out


def _record_texts(records, n: int) -> list[str]:
    """One compact JSON object per record, as received (or as the frame holds it)."""
    if isinstance(records, pd.DataFrame):
        text = records.to_json(orient="records", lines=True, date_format="iso")
        return text.splitlines()[:n]
    parsed = json.loads(records) if isinstance(records, (bytes, str)) else records
    items = parsed if isinstance(parsed, list) else [parsed]
    return [json.dumps(r, separators=(",", ":"), default=str) for r in items[:n]]


def _finite(value: float):
    return value if np.isfinite(value) else None


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
