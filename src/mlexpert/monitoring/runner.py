"""``run_monitor``: one pass over the prediction log, per model version and window: input
and prediction drift against the reference profile, performance on the outcomes fed back,
latency and prediction counts; the champion against a shadow challenger; and the alerts.

The log is streamed (:func:`mlexpert.monitoring.reader.iter_log`), never loaded whole; the
rows of the run are those logged up to its start (rows arriving meanwhile wait for the
next run), so the windows planned from the log's row counts match what is read.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

from ..exceptions import ArtifactError, InvalidParameterError
from ..store import open_store, redact
from ..store import store_url as resolve_store_url
from ._compare import THRESHOLDS as DRIFT_THRESHOLDS
from ._models import load_info, model_paths
from ._tracker import VersionTracker
from ._shadow import compare_shadows
from ._summary import summary_text
from .alerts import build_alerts
from .performance import PERFORMANCE_THRESHOLDS
from .reader import CHUNK_ROWS, iter_log, log_summary, recent_start
from .windows import Windower, iso, parse_time, parse_window


def run_monitor(root, *, store_url: str | None = None, name: str | None = None,
                window: str = "auto", since=None, until=None, chunk_rows: int = CHUNK_ROWS,
                max_rows: int | None = None, thresholds: dict | None = None) -> dict:
    """Monitor what was logged for the models under ``root`` (JSON-serialisable result).

    ``store_url`` defaults to $MLEXPERT_STORE, then ``ROOT/mlexpert.db``; ``name`` keeps one
    model; ``window`` is ``auto``, a row count or a duration (:mod:`.windows`);
    ``since``/``until`` are times or durations before now; ``max_rows`` keeps the most
    recent rows only; ``thresholds`` overrides the drift thresholds (the keyword arguments
    of :meth:`DriftAccumulator.result`: ``alpha``, ``min_shift``, ``min_rows``,
    ``include_time``) and the performance ones (``decay_tolerance``, ``min_labelled``).
    """
    started = time.monotonic()
    spec = parse_window(window)
    now = time.time()
    since_ts, until_ts = parse_time(since, "since", now), parse_time(until, "until", now)
    if since_ts is not None and until_ts is not None and since_ts >= until_ts:
        raise InvalidParameterError(f"--since ({iso(since_ts)}) must be before --until ({iso(until_ts)}).")
    if max_rows is not None and max_rows < 1:
        raise InvalidParameterError(f"max_rows must be a positive integer; got {max_rows}.")
    drift_t, perf_t = split_thresholds(thresholds)
    root = Path(root)
    if not root.is_dir():
        raise ArtifactError(f"{root} is not a folder. Pass the folder the server serves (a model "
                            "directory, or a folder of them) or the registry root, and --store "
                            "URL when the log is elsewhere.")
    store = open_store(resolve_store_url(root, store_url))
    after_id = None
    if max_rows is not None:
        after_id = recent_start(store, max_rows, model=name, since=since_ts, until=until_ts)
    streams = log_summary(store, model=name, since=since_ts, until=until_ts, after_id=after_id)
    paths = model_paths(root)
    infos, trackers = {}, {}
    shadowed = {s["model"] for s in streams if s["shadow"]}
    for s in sorted(streams, key=lambda s: (s["model"], s["shadow"], s["version"])):
        mv = (s["model"], s["version"])
        if mv not in infos:
            infos[mv] = load_info(*mv, paths, root)
        trackers[(*mv, s["shadow"])] = VersionTracker(
            infos[mv], s["shadow"], Windower(spec, s["n"]), keep_keys=s["model"] in shadowed)
    if streams:
        fields = merged_fields(infos.values())
        upto = max(s["last_id"] for s in streams)
        for chunk in iter_log(store, model=name, since=since_ts, until=until_ts, shadow=None,
                              chunk_rows=chunk_rows, after_id=after_id, with_actual=True,
                              fields=fields, upto_id=upto):
            _dispatch(chunk, trackers)
    models = [t.finish(drift_t, perf_t) for t in trackers.values()]
    comparisons = compare_shadows(trackers, perf_t)
    alerts = build_alerts(models)
    result = {
        "generated_at": iso(now), "root": str(root), "store": redact(store.url),
        "selection": {"model": name, "since": iso(since_ts), "until": iso(until_ts),
                      "window": spec.text, "max_rows": max_rows,
                      "rows": sum(s["n"] for s in streams)},
        "thresholds": {"drift": drift_t, "performance": perf_t},
        "models": models, "comparisons": comparisons,
        "summary": {"status": "alert" if alerts else ("ok" if streams else "no data"),
                    "alerts": alerts, "text": summary_text(models, comparisons, alerts)},
    }
    result["elapsed_s"] = round(time.monotonic() - started, 3)
    return json_safe(result)


def json_safe(value):
    """``value`` with numpy scalars as Python numbers and NaN or infinities as None."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def merged_fields(infos) -> dict[str, str] | None:
    """The input fields to read for all the monitored versions (a field that is a number
    for one and text for another is read as text); None (read every field) when a
    version's schema is unknown."""
    fields: dict[str, str] = {}
    for info in infos:
        if info.path is None or not info.fields:
            return None
        for name, kind in info.fields.items():
            fields[name] = "text" if fields.get(name, kind) != kind else kind
    return fields


def split_thresholds(thresholds: dict | None) -> tuple[dict, dict]:
    """The drift and the performance thresholds, defaults filled in; unknown names refused."""
    drift, perf = dict(DRIFT_THRESHOLDS), dict(PERFORMANCE_THRESHOLDS)
    for key, value in (thresholds or {}).items():
        if key in drift:
            drift[key] = value
        elif key in perf:
            perf[key] = value
        else:
            raise InvalidParameterError(
                f"Unknown monitoring threshold {key!r}; use one of "
                f"{sorted([*DRIFT_THRESHOLDS, *PERFORMANCE_THRESHOLDS])}.")
    return drift, perf


def _dispatch(chunk, trackers: dict) -> None:
    """Hand each tracker its rows of the chunk (the whole chunk when it is all one stream)."""
    meta = chunk.meta
    groups = meta.groupby(["model", "version", "shadow"], sort=False).indices
    for key, rows in groups.items():
        tracker = trackers.get((key[0], str(key[1]), bool(key[2])))
        if tracker is None:  # logged after the run's snapshot of the log
            continue
        if len(rows) == len(meta):
            tracker.update(meta, chunk.inputs, chunk.proba)
        else:
            tracker.update(meta.iloc[rows], chunk.inputs.iloc[rows],
                           None if chunk.proba is None else chunk.proba.iloc[rows])
