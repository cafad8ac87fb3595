"""Train/serve skew: how a test or new file differs from the training data, column by column,
and rows that appear in both."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import ks_2samp

from ..features._frame import as_float, as_strings
from ..features.datetime import to_datetime
from .findings import Finding
from .rows import row_hashes

PSI_WARNING, PSI_INFO = 0.25, 0.10  # population stability index (industry rule of thumb)
TVD_WARNING, TVD_INFO = 0.20, 0.10  # total variation distance of category shares
UNSEEN_WARNING = 0.10  # share of new rows with a category never seen in training
MISSING_SHIFT = 0.20  # change in the share of missing values
SHARED_WARNING = 0.01  # share of new rows that also appear in training


def check_skew(train: pd.DataFrame, new: pd.DataFrame, kinds: dict[str, str]) -> list[Finding]:
    absent = [c for c in kinds if c not in new.columns]
    out = []
    if absent:
        out.append(Finding(
            "missing_columns", "critical",
            f"The new data lacks {len(absent)} training column(s): {', '.join(absent[:15])}.",
            "Add them: the model needs every training feature to predict.", tuple(absent),
            {"missing": absent}))
    present = [c for c in kinds if c in new.columns]
    for name in present:
        finding = _column_shift(name, kinds[name], train[name], new[name])
        if finding is not None:
            out.append(finding)
    if present:
        out += _shared_rows(train[present], new[present])
    return out


def psi(expected: np.ndarray, actual: np.ndarray, bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` on its quantile bins."""
    edges = np.unique(np.quantile(expected, np.linspace(0, 1, bins + 1)))
    if len(edges) < 2:
        return 0.0
    edges[0], edges[-1] = -np.inf, np.inf
    e = np.histogram(expected, edges)[0] / len(expected)
    a = np.histogram(actual, edges)[0] / len(actual)
    e, a = np.clip(e, 1e-4, None), np.clip(a, 1e-4, None)
    return float(np.sum((a - e) * np.log(a / e)))


def _column_shift(name, kind, train: pd.Series, new: pd.Series) -> Finding | None:
    if kind == "text" or len(new) == 0:
        return None
    miss_train, miss_new = float(train.isna().mean()), float(new.isna().mean())
    evidence: dict = {"kind": kind, "missing_share_train": round(miss_train, 4),
                      "missing_share_new": round(miss_new, 4)}
    reasons, severity = [], None
    if abs(miss_new - miss_train) >= MISSING_SHIFT:
        reasons.append(f"missing in {miss_new:.0%} of new rows vs {miss_train:.0%} in training")
        severity = "warning"
    if kind in ("categorical", "high_cardinality", "boolean") and not _is_numeric(train):
        a, b = _shares(train), _shares(new)
        tvd = 0.5 * float(sum(abs(a.get(k, 0.0) - b.get(k, 0.0)) for k in set(a) | set(b)))
        unseen = float(sum(v for k, v in b.items() if k not in a))
        evidence.update(tvd=round(tvd, 4), unseen_share=round(unseen, 4))
        if unseen >= UNSEEN_WARNING:
            reasons.append(f"{unseen:.0%} of new rows have a category never seen in training")
            severity = "warning"
        if tvd >= TVD_INFO:
            reasons.append(f"category shares differ by {tvd:.0%} (total variation)")
            severity = severity or ("warning" if tvd >= TVD_WARNING else "info")
            if tvd >= TVD_WARNING:
                severity = "warning"
    else:
        x, z = _numbers(train, kind), _numbers(new, kind)
        if len(x) >= 10 and len(z) >= 10:
            value = psi(x, z)
            ks = ks_2samp(x, z)
            evidence.update(psi=round(value, 4), ks_statistic=round(float(ks.statistic), 4),
                            ks_pvalue=float(ks.pvalue), mean_train=float(np.mean(x)),
                            mean_new=float(np.mean(z)))
            if value >= PSI_INFO and ks.pvalue < 0.01:
                reasons.append(f"distribution shifted (PSI {value:.2f}, KS {ks.statistic:.2f}; "
                               f"mean {np.mean(x):.4g} → {np.mean(z):.4g})")
                if value >= PSI_WARNING:
                    severity = "warning"
                severity = severity or "info"
    if not reasons:
        return None
    return Finding("train_serve_skew", severity, f"Column {name!r}: " + "; ".join(reasons) + ".",
                   "Predictions on such rows are less reliable than cross-validation suggests; "
                   "check the data pipeline, or retrain on data like the new rows.",
                   (name,), evidence)


def _shared_rows(train: pd.DataFrame, new: pd.DataFrame) -> list[Finding]:
    seen = set(row_hashes(train).tolist())
    shared = int(sum(h in seen for h in row_hashes(new).tolist()))
    if not shared:
        return []
    share = shared / len(new)
    return [Finding(
        "shared_rows", "warning" if share >= SHARED_WARNING else "info",
        f"{shared} new rows ({share:.1%}) also appear in the training data (same features).",
        "If the new file is a test set, remove them: a score measured on training rows is "
        "optimistic.", (), {"shared_rows": shared, "share": round(share, 4)})]


def _is_numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def _shares(col: pd.Series) -> dict:
    values = pd.Series(as_strings(col), dtype=object).dropna()
    return values.value_counts(normalize=True).to_dict() if len(values) else {}


def _numbers(col: pd.Series, kind: str) -> np.ndarray:
    if kind == "datetime":
        parsed = to_datetime(col).dropna()
        values = parsed.astype("int64").to_numpy(dtype=float)
    else:
        values = as_float(col)
    return values[np.isfinite(values)]
