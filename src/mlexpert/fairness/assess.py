"""``assess_fairness``: compare model decisions and errors across the groups of each
sensitive column, flag gaps above a threshold and suggest mitigations (JSON-ready)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ..task import TASKS
from .advice import findings, mitigation
from .groups import group_column
from .metrics import compress, differences, group_table, outcome_groups


def assess_fairness(y, output, sensitive: pd.DataFrame, *, task: str, classes: tuple = (),
                    threshold: float = 0.5, max_gap: float = 0.1, min_group_rows: int = 30,
                    on: str = "out-of-fold predictions") -> dict:
    """Metrics by group for each sensitive column, with flagged gaps and mitigation options.

    Parameters
    ----------
    y : array-like of shape (n,)
        Encoded targets: class indices for classification, floats for regression.
    output : array-like
        Class probabilities (n, k) for classification, predicted values (n,) for regression.
    sensitive : pandas.DataFrame
        One column per sensitive attribute, rows aligned with ``y``.
    task : {"binary", "multiclass", "regression"}
    classes : tuple
        Class labels in code order (binary: ``classes[1]`` is the positive class).
    threshold : float
        Binary decision threshold on P(positive class).
    max_gap : float
        A headline gap above this flags the column: demographic parity or equalized odds
        difference (binary), accuracy gap (multiclass), MAE gap over the overall MAE (regression).
    min_group_rows : int
        Smaller groups are reported but left out of the gaps.
    on : str
        What the predictions are, in words (shown in reports).

    Returns
    -------
    dict
        ``{"on", "task", "threshold", "decision_threshold", "min_group_rows", "overall",
        "columns": {name: {"kind", "groups", "differences", "flagged", "uncertain",
        "findings", "small_groups", "notes"}}, "flagged", "mitigation"}``. A column is
        ``uncertain`` when each of its flagged gaps, less its 95% margin of error, is not
        above ``max_gap`` (the groups are too small to be sure).
    """
    y, output, sensitive = _check(y, output, sensitive, task, classes, threshold, max_gap, min_group_rows)
    names = ()
    if task == "regression":
        pred = output
    else:
        names = tuple(str(c) for c in classes) or tuple(str(i) for i in range(output.shape[1]))
        pred = (output[:, 1] >= threshold).astype(int) if task == "binary" else output.argmax(axis=1)
    columns, criteria, overall, any_small = {}, set(), {}, False
    for name in sensitive.columns:
        entry, found, overall = _assess_column(str(name), sensitive[name], y, pred, task, names,
                                               max_gap, min_group_rows)
        columns[str(name)] = entry
        criteria |= found
        any_small |= bool(entry["small_groups"])
    return {"on": on, "task": task, "threshold": _round(max_gap),
            "decision_threshold": _round(threshold) if task == "binary" else None,
            "min_group_rows": int(min_group_rows), "overall": overall, "columns": columns,
            "flagged": [name for name, entry in columns.items() if entry["flagged"]],
            "mitigation": mitigation(task, criteria, any_small, min_group_rows)}


def _assess_column(name, column, y, pred, task, classes, max_gap, min_rows) -> tuple[dict, set, dict]:
    grouping = group_column(column)
    rows = compress(y, pred, grouping.labels)
    table, overall = group_table(task, rows, grouping.order, classes)
    small = [g for g in grouping.order if table.loc[g, "n"] < min_rows]
    compared = [g for g in grouping.order if g not in small]
    entry = {"kind": grouping.kind, "groups": {g: _metrics(table.loc[g]) for g in grouping.order},
             "differences": {}, "flagged": False, "uncertain": False, "findings": [],
             "small_groups": small, "notes": []}
    found = set()
    if len(grouping.order) < 2:
        entry["notes"].append(f"Column {name!r} has a single group ({grouping.order[0]!r}) in these "
                              "rows, so there is nothing to compare.")
    elif len(compared) < 2:
        entry["notes"].append(f"Fewer than two groups of {name!r} have at least {min_rows} rows, so "
                              "no gaps were computed; collect more data or lower min_group_rows.")
    else:
        diffs = differences(task, rows, table, overall, compared, min_rows)
        odds = outcome_groups(table, compared, min_rows) if task == "binary" else None
        entry["differences"] = {k: _round(v) for k, v in diffs.items()}
        flags = findings(task, name, table.loc[compared], diffs, max_gap,
                         classes[1] if task == "binary" else "", odds)
        found = {flag.criterion for flag in flags}
        entry["findings"] = [flag.sentence for flag in flags]
        entry["flagged"] = bool(flags)
        entry["uncertain"] = bool(flags) and all(flag.uncertain for flag in flags)
        if task == "binary" and len(odds) < len(compared):
            entry["notes"].append(_odds_note(name, [g for g in compared if g not in odds], min_rows))
    return entry, found, _metrics(overall)


def _odds_note(name: str, left_out: list, min_rows: int) -> str:
    return (f"Left out of the equalized odds difference of {name!r}: {', '.join(left_out)} "
            f"(fewer than {min_rows} actual positives or negatives, so their true and false "
            "positive rates are too imprecise to compare).")


def _check(y, output, sensitive, task, classes, threshold, max_gap, min_rows):
    if task not in TASKS:
        raise InvalidParameterError(f"The 'task' parameter of assess_fairness must be one of {TASKS}. "
                                    f"Got {task!r} instead.")
    if isinstance(sensitive, pd.Series):
        sensitive = sensitive.to_frame()
    if not isinstance(sensitive, pd.DataFrame) or sensitive.shape[1] == 0:
        raise InvalidParameterError("The 'sensitive' parameter of assess_fairness must be a DataFrame "
                                    "with at least one column. Got "
                                    f"{type(sensitive).__name__} instead.")
    if not 0 < threshold < 1 or not max_gap > 0 or min_rows < 1:
        raise InvalidParameterError("assess_fairness needs 0 < threshold < 1, max_gap > 0 and "
                                    f"min_group_rows >= 1. Got {threshold!r}, {max_gap!r}, {min_rows!r}.")
    output = np.asarray(output, dtype=float)
    y = np.asarray(y, dtype=float if task == "regression" else np.int64)
    lengths = {"y": len(y), "output": len(output), "sensitive": len(sensitive)}
    if lengths["y"] == 0:
        raise DataError("assess_fairness got no rows; pass the predictions to assess.")
    if len(set(lengths.values())) > 1:
        raise DataError(f"y, output and sensitive must have one row per prediction; got {lengths}. "
                        "Pass the sensitive columns of exactly the rows that were predicted.")
    expected = 1 if task == "regression" else 2
    if output.ndim != expected or (task == "binary" and output.shape[1] != 2):
        raise DataError(f"For a {task} task, output must be "
                        f"{'values of shape (n,)' if expected == 1 else 'probabilities of shape (n, k)'}"
                        f"{' with k = 2' if task == 'binary' else ''}; got shape {output.shape}.")
    return y, output, sensitive.reset_index(drop=True)


def _metrics(row: pd.Series) -> dict:
    return {k: (int(v) if k == "n" else _round(v)) for k, v in row.items() if not k.startswith("_")}


def _round(value):
    value = float(value)
    return None if not math.isfinite(value) else round(value, 6)
