"""Target leakage: one column that predicts the target (almost) perfectly on its own.

Each feature is scored alone, out of fold: numbers and dates by a small decision tree (with
a missing-value indicator), categories by their target statistics from the other folds.
A legitimate feature rarely reaches these scores on its own; a copy of the target, a
transform of it, or a value recorded after the outcome (a closing date, a field filled in
only for one class) does. Whether a column is merely present also counts: missingness
alone that separates the classes is the classic sign of a post-outcome field.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.metrics import r2_score, roc_auc_score
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

from ..features._frame import as_float, as_strings
from ..features.datetime import to_datetime
from ..features.numeric import boolean_to_float
from .findings import Finding

CRITICAL = {"roc_auc": 0.995, "accuracy_gain": 0.99, "r2": 0.99}
WARNING = {"roc_auc": 0.97, "accuracy_gain": 0.95, "r2": 0.95}
ONE_CLASS_AUC = 0.999  # multiclass: a column whose presence singles out one class (warning)
RANK_CRITICAL, RANK_WARNING = 0.995, 0.99  # regression: |Spearman| with the target
ONE_CLASS_MIN_ROWS = 10
MAX_ROWS = 20_000  # rows sampled for the single-feature models
FOLDS = 3
SMOOTHING = 5.0  # pseudo-rows of the prior in per-category target statistics
SCORED_KINDS = ("numeric", "boolean", "datetime", "categorical", "high_cardinality")


def metric_for(task: str) -> str:
    """roc_auc (binary), accuracy_gain (multiclass: accuracy above the majority class, as a
    share of the possible gain; robust to tiny classes), r2 (regression)."""
    return {"binary": "roc_auc", "multiclass": "accuracy_gain"}.get(task, "r2")


def check_leakage(df: pd.DataFrame, kinds: dict[str, str], y: np.ndarray, task: str, target: str,
                  *, seed: int = 0, deadline: float | None = None,
                  classes=None) -> tuple[list[Finding], list[str]]:
    """Findings for columns that predict ``y`` alone, and notes on what was not checked.

    ``kinds`` maps feature names to schema kinds; ``y`` is encoded (class indices or
    floats) and aligned with ``df``.
    """
    rows = np.arange(len(df))
    if len(rows) > MAX_ROWS:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), MAX_ROWS, replace=False))
    y = np.asarray(y)[rows]
    folds = _folds(y, task, seed)
    metric = metric_for(task)
    classes = list(classes) if classes is not None else []
    findings, notes, checked = [], [], 0
    names = [n for n, k in kinds.items() if k in SCORED_KINDS]
    skipped_text = [n for n, k in kinds.items() if k == "text"]
    if skipped_text:
        notes.append(f"Leakage not checked for free-text columns: {', '.join(skipped_text)}.")
    for name in names:
        if deadline is not None and time.monotonic() > deadline:
            notes.append(f"Leakage check stopped by its time limit after {checked} of "
                         f"{len(names)} columns.")
            break
        col = df[name].iloc[rows]
        kind = kinds[name]
        oof = _single_feature_oof(col, kind, y, task, folds, seed)
        score = _score(y, oof, task)
        missing = col.isna().to_numpy()
        missing_score = (_score(y, _group_oof(missing.astype(int), y, task, folds), task)
                         if 0.01 <= missing.mean() <= 0.99 else None)
        checked += 1
        finding = _finding(name, kind, target, metric, score, missing_score, float(missing.mean()))
        if task == "regression":
            finding = _rank_finding(name, kind, target, col, y, finding)
        if finding is None and task == "multiclass":
            finding = _one_class_finding(name, kind, target, y, missing, folds, classes)
        if finding is not None:
            findings.append(finding)
    return findings, notes


def _finding(name, kind, target, metric, score, missing_score, missing_share):
    if score < WARNING[metric]:
        return None
    severity = "critical" if score >= CRITICAL[metric] else "warning"
    message = (f"Column {name!r} alone predicts {target!r} with {metric} {score:.3f} "
               "(out of fold).")
    if missing_score is not None and missing_score >= WARNING[metric]:
        message += (f" Whether it is filled in at all gives {metric} {missing_score:.3f}: it is "
                    "probably recorded only after the outcome.")
    elif kind == "datetime":
        message += " A date this telling is often recorded after the outcome (a closing date)."
    else:
        message += " It may be a copy or transform of the target, or known only afterwards."
    action = (f"Dropped from training; pass --keep {name} if it is truly known when predicting."
              if severity == "critical" else
              "Kept; make sure it is known at prediction time, before the outcome.")
    evidence = {"metric": metric, "score": round(float(score), 4), "kind": kind,
                "missing_share": round(missing_share, 4)}
    if missing_score is not None:
        evidence["missingness_score"] = round(float(missing_score), 4)
    return Finding("target_leakage", severity, message, action, (name,), evidence)


def _one_class_finding(name, kind, target, y, missing, folds, classes):
    """A multiclass column filled in (or left empty) for exactly one class: the signature of
    a field recorded only for that outcome (e.g. a cancellation date). Values that single
    out a class are not flagged: decisive symptoms are what classifiers are for."""
    if not 0.001 < missing.mean() < 0.999:
        return None
    flags = _group_oof(missing.astype(int), y, "multiclass", folds)
    best, which = 0.0, None
    for c in np.unique(y):
        positive = y == c
        if ONE_CLASS_MIN_ROWS <= positive.sum() < len(y):
            auc = roc_auc_score(positive, flags[:, c])
            if auc > best:
                best, which = auc, c
    if best < ONE_CLASS_AUC:
        return None
    label = classes[which] if classes else which
    return Finding(
        "target_leakage", "warning",
        f"Column {name!r} is filled in for (almost) exactly the rows whose {target!r} is "
        f"{str(label)!r} (one-vs-rest ROC AUC {best:.4f} from its missingness alone): it is "
        "probably recorded only for that outcome.",
        "Kept; make sure it is known at prediction time, before the outcome.", (name,),
        {"metric": "one_vs_rest_roc_auc", "score": round(float(best), 4), "class": str(label),
         "by_missingness": True, "kind": kind})


def _rank_finding(name, kind, target, col, y, finding):
    """Regression: a (near-)monotone transform of the target, which a small tree may miss
    on heavy-tailed targets."""
    if kind not in ("numeric", "datetime"):
        return finding
    values = (to_datetime(col).astype("int64").to_numpy(dtype=float) if kind == "datetime"
              else as_float(col))
    ok = np.isfinite(values) & ~pd.isna(col).to_numpy()
    if ok.sum() < 20 or np.ptp(values[ok]) == 0:
        return finding
    rho = abs(float(pd.Series(values[ok]).corr(pd.Series(y[ok]), method="spearman")))
    if rho < RANK_WARNING or (finding is not None and finding.severity == "critical"):
        return finding
    severity = "critical" if rho >= RANK_CRITICAL else "warning"
    message = (f"Column {name!r} moves in lockstep with {target!r} (|Spearman| {rho:.4f}): it "
               "is probably a copy or transform of the target, or recorded after it.")
    action = (f"Dropped from training; pass --keep {name} if it is truly known when predicting."
              if severity == "critical" else
              "Kept; make sure it is known at prediction time, before the outcome.")
    return Finding("target_leakage", severity, message, action, (name,),
                   {"metric": "spearman", "score": round(rho, 4), "kind": kind})


def _folds(y, task, seed):
    if task != "regression" and np.bincount(y.astype(int)).min() >= FOLDS:
        return list(StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(y, y))
    return list(KFold(FOLDS, shuffle=True, random_state=seed).split(y))


def _single_feature_oof(col: pd.Series, kind: str, y, task, folds, seed) -> np.ndarray:
    if kind in ("categorical", "high_cardinality"):
        strings = as_strings(col)
        codes = pd.factorize(pd.Series(strings, dtype=object), use_na_sentinel=False)[0]
        return _group_oof(codes, y, task, folds)
    if kind == "datetime":
        parsed = to_datetime(col)
        values = parsed.astype("int64").to_numpy(dtype=float) / 1e9
        values[parsed.isna().to_numpy()] = np.nan
    elif kind == "boolean":
        values = boolean_to_float(col)
    else:
        values = as_float(col)
    return _tree_oof(values, y, task, folds, seed)


def _tree_oof(values: np.ndarray, y, task, folds, seed) -> np.ndarray:
    missing = ~np.isfinite(values)
    filled = np.where(missing, (np.nanmin(values) - 1.0) if (~missing).any() else 0.0, values)
    X = np.column_stack([filled, missing.astype(float)])
    leaf = max(5, len(y) // 500)
    classes = int(y.max()) + 1 if task != "regression" else 0
    oof = np.zeros((len(y), classes)) if classes else np.zeros(len(y))
    for tr, va in folds:
        if task == "regression":
            model = DecisionTreeRegressor(max_leaf_nodes=32, min_samples_leaf=leaf, random_state=seed)
            oof[va] = model.fit(X[tr], y[tr]).predict(X[va])
        else:
            model = DecisionTreeClassifier(max_leaf_nodes=32, min_samples_leaf=leaf, random_state=seed)
            model.fit(X[tr], y[tr])
            oof[np.ix_(va, model.classes_.astype(int))] = model.predict_proba(X[va])
    return oof


def _group_oof(codes: np.ndarray, y, task, folds) -> np.ndarray:
    """Out-of-fold per-group target mean (regression) or class shares, shrunk to the prior."""
    if task == "regression":
        targets = y.astype(float)[:, None]
    else:
        targets = np.eye(int(y.max()) + 1)[y.astype(int)]
    oof = np.zeros((len(y), targets.shape[1]))
    for tr, va in folds:
        prior = targets[tr].mean(axis=0)
        n_groups = int(codes.max()) + 1
        sums = np.zeros((n_groups, targets.shape[1]))
        np.add.at(sums, codes[tr], targets[tr])
        counts = np.bincount(codes[tr], minlength=n_groups)[:, None]
        oof[va] = ((sums + SMOOTHING * prior) / (counts + SMOOTHING))[codes[va]]
    return oof[:, 0] if task == "regression" else oof


def _score(y, oof, task) -> float:
    if task == "regression":
        return float(r2_score(y, oof))
    if task == "binary":
        return float(roc_auc_score(y, oof[:, 1])) if len(np.unique(y)) == 2 else 0.5
    majority = np.bincount(y.astype(int)).max() / len(y)
    accuracy = float(np.mean(np.argmax(oof, axis=1) == y))
    return (accuracy - majority) / (1.0 - majority) if majority < 1 else 0.0
