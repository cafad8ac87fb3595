"""Row checks: duplicated rows, and identical feature vectors with conflicting targets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .findings import Finding

DUPLICATE_WARNING = 0.01  # share of duplicated rows that makes a warning


def row_hashes(df: pd.DataFrame) -> np.ndarray:
    """One 64-bit hash per row, independent of the index."""
    return pd.util.hash_pandas_object(df, index=False).to_numpy()


def check_rows(df: pd.DataFrame, target: str, features: list[str], regression: bool) -> list[Finding]:
    out: list[Finding] = []
    n = len(df)
    whole = row_hashes(df[features + [target]])
    dup = int(pd.Series(whole).duplicated().sum())
    if dup:
        share = dup / n
        out.append(Finding(
            "duplicate_rows", "warning" if share >= DUPLICATE_WARNING else "info",
            f"{dup} rows ({share:.1%}) repeat an earlier row exactly, target included.",
            "Kept. If they are copies of one record, remove them: they make cross-validation "
            "optimistic when copies land in both training and validation folds.",
            (), {"duplicate_rows": dup, "share": round(share, 4)}))
    if not features:
        return out
    keys = pd.Series(row_hashes(df[features]))
    y = df[target]
    groups = pd.DataFrame({"k": keys, "y": y.to_numpy()}).dropna()
    repeated = groups[groups["k"].duplicated(keep=False)]
    if repeated.empty:
        return out
    if regression:
        spread = repeated.groupby("k")["y"].agg(lambda v: float(np.ptp(v.to_numpy(dtype=float))))
        scale = float(np.nanstd(y.to_numpy(dtype=float))) or 1.0
        conflicting = spread[spread > 0.1 * scale].index
    else:
        distinct = repeated.groupby("k")["y"].nunique()
        conflicting = distinct[distinct > 1].index
    rows = int(repeated["k"].isin(conflicting).sum())
    if rows:
        share = rows / n
        out.append(Finding(
            "conflicting_duplicates", "warning" if share >= DUPLICATE_WARNING else "info",
            f"{rows} rows ({share:.1%}) share identical features with another row but have a "
            f"different target ({len(conflicting)} groups).",
            "Kept. This is label noise or a missing feature; no model can tell these rows apart, "
            "which caps the achievable score.",
            (), {"rows": rows, "groups": int(len(conflicting)), "share": round(share, 4)}))
    return out
