"""Per-column checks: missing values, constant and near-constant columns, identifiers,
high cardinality."""

from __future__ import annotations

import pandas as pd

from ..data.schema import Schema
from .findings import Finding

MISSING_WARNING = 0.5  # share of missing values that makes a column a warning
MISSING_INFO = 0.05
NEAR_CONSTANT = 0.99  # share of the most frequent value
HIGH_CARDINALITY_SHARE = 0.5  # distinct values over rows, for a categorical column


def check_columns(df: pd.DataFrame, schema: Schema) -> list[Finding]:
    out: list[Finding] = []
    n = len(df)
    for info in schema.columns:
        col = df[info.name]
        missing = float(col.isna().mean()) if n else 0.0
        if info.kind == "constant":
            out.append(Finding("constant", "warning", f"Column {info.name!r} is constant: {info.reason}.",
                               "Dropped from training (it carries no information).",
                               (info.name,), {"distinct_values": info.n_unique, "missing_share": round(missing, 4)}))
            continue
        if info.kind == "id":
            out.append(Finding("identifier", "warning", f"Column {info.name!r} looks like {info.reason}.",
                               "Dropped from training: identifiers do not generalise to new rows "
                               f"(use --keep {info.name} if it carries meaning).",
                               (info.name,), {"distinct_values": info.n_unique, "rows": n}))
            continue
        if missing >= MISSING_INFO:
            severity = "warning" if missing >= MISSING_WARNING else "info"
            out.append(Finding(
                "missing_values", severity,
                f"Column {info.name!r} is missing in {missing:.0%} of rows ({int(col.isna().sum())}).",
                "Imputed, with a missing-value indicator for the models; check why it is missing "
                "(missingness that depends on the outcome is a leak).",
                (info.name,), {"missing_share": round(missing, 4), "missing_rows": int(col.isna().sum())}))
        top = col.value_counts(normalize=True, dropna=False)
        if info.kind not in ("text",) and len(top) > 1 and float(top.iloc[0]) >= NEAR_CONSTANT:
            out.append(Finding(
                "near_constant", "info",
                f"Column {info.name!r} has the same value ({top.index[0]!r}) in {float(top.iloc[0]):.1%} of rows.",
                "Kept; it can only help on the few other rows. Drop it if those are errors.",
                (info.name,), {"top_value_share": round(float(top.iloc[0]), 4)}))
        if info.kind == "high_cardinality" and info.n_unique >= HIGH_CARDINALITY_SHARE * max(n, 1):
            out.append(Finding(
                "high_cardinality", "info",
                f"Column {info.name!r} has {info.n_unique} distinct values over {n} rows.",
                "Encoded by frequency and target statistics; most values are seen only once, "
                "so expect little from it.",
                (info.name,), {"distinct_values": info.n_unique, "rows": n}))
    return out
