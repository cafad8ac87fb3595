"""Value checks: outliers in numeric columns, and class imbalance of the target."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features._frame import as_float
from .findings import Finding

OUTLIER_SCALE = 5.0  # robust z-score beyond which a value is an outlier
OUTLIER_INFO = 0.01  # share of rows that makes a column worth a note
IMBALANCE_WARNING = 10.0  # largest class over smallest
IMBALANCE_INFO = 3.0
MINORITY_ROWS = 20  # a class with fewer rows than this is hard to learn at all


def check_outliers(df: pd.DataFrame, numeric: list[str]) -> list[Finding]:
    out = []
    for name in numeric:
        values = as_float(df[name])
        values = values[np.isfinite(values)]
        if len(values) < 20:
            continue
        median = float(np.median(values))
        mad = float(np.median(np.abs(values - median))) * 1.4826
        if mad == 0:
            q1, q3 = np.percentile(values, [25, 75])
            mad = float(q3 - q1) / 1.349
        if mad == 0:
            continue
        far = np.abs(values - median) / mad > OUTLIER_SCALE
        share = float(far.mean())
        if share >= OUTLIER_INFO:
            out.append(Finding(
                "outliers", "info",
                f"Column {name!r} has {int(far.sum())} values ({share:.1%}) more than "
                f"{OUTLIER_SCALE:g} robust deviations from its median {median:.4g}.",
                "Kept: tree models are unaffected; scaled inputs are clipped for linear models and "
                "networks. Check them if they may be entry errors.",
                (name,), {"outliers": int(far.sum()), "share": round(share, 4),
                          "median": median, "robust_scale": mad,
                          "min": float(values.min()), "max": float(values.max())}))
    return out


def check_imbalance(y: pd.Series) -> list[Finding]:
    """Largest over smallest class: a warning from 10:1 (or a class too small to learn)."""
    counts = y.value_counts()
    if len(counts) < 2:
        return []
    rarest, n_rare = str(counts.index[-1]), int(counts.iloc[-1])
    ratio = float(counts.iloc[0]) / n_rare
    share = n_rare / float(counts.sum())
    evidence = {"class_counts": {str(k): int(v) for k, v in counts.items()},
                "minority_share": round(share, 4), "imbalance_ratio": round(ratio, 2)}
    if n_rare < MINORITY_ROWS or ratio >= IMBALANCE_WARNING:
        return [Finding(
            "class_imbalance", "warning",
            f"Class {rarest!r} has {n_rare} rows ({share:.1%}), {ratio:.0f}x fewer than the "
            f"largest class {str(counts.index[0])!r}.",
            "Folds are stratified and the default metrics (ROC AUC, log loss) are insensitive to "
            "imbalance; judge the model by recall/precision of the rare class, tune the decision "
            "threshold, and collect more rare cases if you can.",
            (), evidence)]
    if ratio >= IMBALANCE_INFO:
        return [Finding("class_imbalance", "info",
                        f"Classes are unbalanced: {rarest!r} has {share:.1%} of rows ({ratio:.1f}x "
                        "fewer than the largest).", "Folds are stratified; nothing else is needed.",
                        (), evidence)]
    return []
