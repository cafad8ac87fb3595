"""Prometheus metrics: requests, latency, errors and the distribution of predictions.

With several worker processes (``PROMETHEUS_MULTIPROC_DIR`` set, as ``mlexpert serve
--workers N`` does) every process writes its samples to that folder and ``/metrics``
adds them up, so the numbers cover the whole server whichever worker answers.
"""

from __future__ import annotations

import os

import numpy as np
from prometheus_client import (CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram,
                               disable_created_metrics, generate_latest)
from prometheus_client.multiprocess import MultiProcessCollector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class ServerMetrics:
    """The server's metrics, on a registry of its own (several apps can live in one process)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self, catalog):
        disable_created_metrics()  # the *_created series only add noise to a scrape
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("mlexpert_requests", "HTTP requests by route, method and status",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("mlexpert_request_duration_seconds", "Time to answer a request",
                                 ["route"], buckets=LATENCY_BUCKETS, registry=r)
        self.errors = Counter("mlexpert_request_errors", "Refused or failed requests by reason",
                              ["route", "reason"], registry=r)
        self.rows = Counter("mlexpert_predicted_rows", "Rows predicted", ["model", "version"], registry=r)
        self.classes = Counter("mlexpert_predicted_class", "Predicted labels (classification)",
                               ["model", "version", "label"], registry=r)
        self.values = {}
        for m in catalog.all():
            if m.task == "regression":
                self._histogram(m)

    def _histogram(self, m):
        """The predicted-value histogram of a regression model (made on first use: a hot
        reload brings models the server did not start with)."""
        key = (m.name, m.version)
        if key not in self.values:
            self.values[key] = Histogram(
                f"mlexpert_predicted_value_{slug(m.name)}_{slug(m.version)}",
                f"Predicted values of {m.name} version {m.version}",
                buckets=_value_buckets(m.manifest), registry=self.registry)
        return self.values[key]

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def observe_predictions(self, model, labels: list) -> None:
        self.rows.labels(model.name, model.version).inc(len(labels))
        if model.task == "regression":
            hist = self._histogram(model)
            for v in labels:
                hist.observe(float(v))
            return
        counts: dict = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        for label, n in counts.items():
            self.classes.labels(model.name, model.version, str(label)).inc(n)

    def exposition(self) -> bytes:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)


def slug(text: str) -> str:
    """``text`` as a metric- or schema-name fragment: lower case, non-alphanumerics as ``_``."""
    return "".join(ch if ch.isalnum() else "_" for ch in text.lower())


def _value_buckets(manifest: dict) -> tuple[float, ...]:
    """Bucket edges at the deciles of the out-of-fold predictions the fit kept (if any)."""
    sample = (((manifest.get("evaluation") or {}).get("cross_validation") or {})
              .get("residuals", {}).get("sample", {}).get("predicted"))
    if not sample:
        return Histogram.DEFAULT_BUCKETS
    edges = np.unique(np.quantile(np.asarray(sample, dtype=float), np.linspace(0, 1, 11)))
    return tuple(float(e) for e in edges) + (float("inf"),)
