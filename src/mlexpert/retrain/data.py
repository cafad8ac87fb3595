"""The rows a retrain uses: the challenger's training rows and the evaluation rows.

* Training: the fresh tables (one or several files, same columns), plus with
  ``include_log`` every labelled row of the prediction log (its inputs, with the outcome
  as the target), then with ``window`` only the most recent ROWS of them.
* Evaluation (the same rows for both models), one of:
  ``file``: a labelled table given apart; ``log``: the labelled log rows logged since the
  champion was registered (it cannot have been trained on them); ``holdout`` (default):
  the most recent 20% of the fresh tables, held out of the challenger's training.

"Most recent" means by the fit's ``time_column`` when it has one (stable sort, rows
without a time first), else the input order (files in the order given, then log rows).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from ..api import data_fingerprint
from ..data.ingest import read_table
from ..exceptions import DataError, InvalidParameterError

HOLDOUT_SHARE = 0.2
MIN_EVAL_ROWS = 20
MIN_TRAIN_ROWS = 20


@dataclass
class RetrainData:
    """Training and evaluation frames (both with the target column) and where they came from."""

    train: pd.DataFrame
    eval: pd.DataFrame
    training: dict = field(default_factory=dict)
    evaluation: dict = field(default_factory=dict)


def assemble(data, *, target: str, time_column: str | None = None, eval_data=None,
             eval_from_log: bool = False, include_log: bool = False, window: int | None = None,
             store=None, name: str | None = None, since: float | None = None) -> RetrainData:
    """Build the training and evaluation rows (see the module doc); one-line errors."""
    _check_options(eval_data, eval_from_log, include_log, window)
    fresh, sources = read_sources(data, target)
    if time_column is not None and time_column not in fresh.columns:
        raise DataError(f"The model orders rows by time column {time_column!r}, which the new "
                        "data lacks. Add it to the data files.")
    fresh = usable(fresh, target, "the new data")
    training = {"sources": sources, "file_rows": len(fresh)}
    fresh, evaluation, what = _evaluation_rows(fresh, target, time_column, eval_data,
                                               eval_from_log, store, name, since)
    train = fresh
    if include_log:
        # in input order the log rows come last: only the newest `window` can be kept
        logged = log_frame(store, name, target, like=fresh,
                           limit=window if time_column is None else None)
        training["log_rows"] = len(logged)
        train = pd.concat([fresh, logged], ignore_index=True) if len(logged) else fresh
    train = time_ordered(train, time_column)
    if window is not None:
        train = train.iloc[max(0, len(train) - window):]
        training["window"] = window
    if len(evaluation) < MIN_EVAL_ROWS:
        raise DataError(f"The evaluation set ({what['description']}) has {len(evaluation)} "
                        f"labelled rows; at least {MIN_EVAL_ROWS} are needed to compare models.")
    if len(train) < MIN_TRAIN_ROWS:
        raise DataError(f"Only {len(train)} rows are left to train the challenger; at least "
                        f"{MIN_TRAIN_ROWS} are needed. Add data or widen --window.")
    train, evaluation = train.reset_index(drop=True), evaluation.reset_index(drop=True)
    training.update(rows=len(train), fingerprint=data_fingerprint(train))
    what.update(rows=len(evaluation), fingerprint=data_fingerprint(evaluation))
    return RetrainData(train, evaluation, training, what)


def _check_options(eval_data, eval_from_log, include_log, window) -> None:
    if eval_data is not None and eval_from_log:
        raise InvalidParameterError("Choose one evaluation set: --eval FILE or --eval-from-log, not both.")
    if include_log and eval_from_log:
        raise InvalidParameterError(
            "--include-log and --eval-from-log would evaluate on rows the challenger trained on; "
            "use --include-log with the default holdout or --eval FILE.")
    if window is not None and (isinstance(window, bool) or not isinstance(window, int) or window < 1):
        raise InvalidParameterError(f"--window must be a whole number of rows >= 1. Got {window!r}.")


def _evaluation_rows(fresh, target, time_column, eval_data, eval_from_log, store, name, since):
    """(the fresh rows left to train on, the evaluation rows, their description)."""
    if eval_data is not None:
        evaluation = usable(_read_one(eval_data, target, "--eval"), target, "the --eval table")
        return fresh, evaluation, {"source": "file",
                                   "description": f"the labelled table {_label(eval_data)}"}
    if eval_from_log:
        evaluation = log_frame(store, name, target, since=since)
        if not len(evaluation):
            raise DataError(f"The prediction log has no row of {name!r} with an outcome since the "
                            "champion was registered. Record outcomes (`mlexpert feedback`) or "
                            "pass --eval FILE.")
        return fresh, usable(evaluation, target, "the labelled log"), {
            "source": "log", "description": "labelled prediction-log rows logged since the "
                                            "champion was registered"}
    fresh = time_ordered(fresh, time_column)
    cut = len(fresh) - max(MIN_EVAL_ROWS, round(HOLDOUT_SHARE * len(fresh)))
    if cut < MIN_TRAIN_ROWS:
        raise DataError(f"The new data has {len(fresh)} labelled rows: too few to hold out "
                        f"{HOLDOUT_SHARE:.0%} for the evaluation and train on the rest. Add rows, "
                        "or pass a separate --eval table.")
    order = f"by {time_column!r}" if time_column else "in input order"
    return fresh.iloc[:cut], fresh.iloc[cut:], {
        "source": "holdout", "description": f"the most recent {HOLDOUT_SHARE:.0%} of the new "
                                            f"data ({order}), held out of the challenger's training"}


def read_sources(data, target: str) -> tuple[pd.DataFrame, list[str]]:
    """Every fresh table, concatenated in order (they must share their columns)."""
    items = list(data) if isinstance(data, (list, tuple)) else [data]
    items = [d for d in items if d is not None]
    if not items:
        raise InvalidParameterError("Pass the new labelled data: one or more tables (--data FILE).")
    frames = [_read_one(item, target, "--data") for item in items]
    first = list(frames[0].columns)
    for item, frame in zip(items[1:], frames[1:]):
        if set(frame.columns) != set(first):
            lacks, extra = sorted(set(first) - set(frame.columns)), sorted(set(frame.columns) - set(first))
            raise DataError(f"The data table {_label(item)} has other columns than {_label(items[0])} "
                            f"(lacks {lacks}, adds {extra}); give tables with the same columns.")
    frame = frames[0] if len(frames) == 1 else pd.concat([f[first] for f in frames], ignore_index=True)
    return frame, [_label(item) for item in items]


def log_frame(store, name: str, target: str, *, since: float | None = None,
              like: pd.DataFrame | None = None, limit: int | None = None) -> pd.DataFrame:
    """Labelled prediction-log rows of ``name`` (not shadow), oldest first (the newest
    ``limit``): the logged inputs with the outcome as ``target``; with ``like``, only its
    columns, with values read as its columns are."""
    from ..monitoring.reader import labelled_log

    if store is None:
        raise InvalidParameterError("The prediction log needs a store: pass --store URL (or the "
                                    "registry's own store).")
    inputs, meta = labelled_log(store, name, since=since, limit=limit)
    frame = inputs.reset_index(drop=True).copy()
    if target in frame.columns:
        frame = frame.drop(columns=[target])
    frame[target] = meta["actual"].to_numpy()
    if "ts" in meta.columns and len(frame):
        frame = frame.iloc[meta["ts"].reset_index(drop=True).argsort(kind="mergesort")]
    if like is not None:  # fields the tables do not have are left out
        frame = frame[[c for c in frame.columns if c in like.columns]]
        frame = _typed_like(frame.reset_index(drop=True), like)
    return frame.reset_index(drop=True)


def usable(frame: pd.DataFrame, target: str, what: str) -> pd.DataFrame:
    """Rows whose target is known; an error when none is."""
    if target not in frame.columns:
        raise DataError(f"The target column {target!r} is not in {what}. Add it (the champion "
                        f"predicts {target!r}).")
    known = frame[target].notna()
    if not known.any():
        raise DataError(f"The target column {target!r} of {what} has no known values.")
    return frame[known].reset_index(drop=True) if not known.all() else frame


def time_ordered(frame: pd.DataFrame, time_column: str | None) -> pd.DataFrame:
    """Oldest first by ``time_column`` (stable; rows without a time first), else unchanged."""
    if time_column is None or time_column not in frame.columns:
        return frame
    from ..features.datetime import to_datetime

    col = frame[time_column]
    key = col if pd.api.types.is_numeric_dtype(col) else to_datetime(col)
    order = key.reset_index(drop=True).sort_values(kind="mergesort", na_position="first").index
    return frame.iloc[order.to_numpy()].reset_index(drop=True)


def unix_seconds(timestamp: str | None) -> float | None:
    """An ISO-8601 time (as the registry writes them) as UNIX seconds."""
    return None if not timestamp else datetime.fromisoformat(timestamp).timestamp()


def _read_one(item, target: str, option: str) -> pd.DataFrame:
    frame = read_table(item)
    if target not in frame.columns:
        raise DataError(f"The {option} table {_label(item)} has no target column {target!r} (the "
                        f"champion predicts {target!r}); columns: {', '.join(map(str, frame.columns[:12]))}.")
    return frame


def _label(item) -> str:
    if isinstance(item, (str, os.PathLike)):
        return str(Path(item))
    return f"<{type(item).__name__}>"


def _typed_like(frame: pd.DataFrame, like: pd.DataFrame) -> pd.DataFrame:
    """Logged JSON values read as the fresh tables' columns are (dates, numbers)."""
    for name in frame.columns.intersection(like.columns):
        ref = like[name]
        if pd.api.types.is_datetime64_any_dtype(ref):
            from ..features.datetime import to_datetime

            frame[name] = to_datetime(frame[name])
        elif pd.api.types.is_bool_dtype(ref):
            continue
        elif pd.api.types.is_numeric_dtype(ref):
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
    return frame
