"""One column's window counts against its reference: the statistics, then the verdict.

Decision rule (``docs/drift.md``): a column has drifted when its test p-value is below
``alpha / tests`` (Bonferroni over the columns that can raise the alarm) and its
``shift`` is at least ``min_shift``: the share of rows that moved, in the same unit for
every kind: the KS distance (the largest gap between the two CDFs) or the change of the
missing rate for numbers, the total variation distance (half the sum of the share
changes, missing included) for categories. Windows under ``min_rows`` never drift.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ._counts import CategoryCounts, NumericCounts
from ._statistics import chi2_test, js_distance, ks_from_counts, missing_test, psi

THRESHOLDS = {"alpha": 0.05, "min_shift": 0.05, "min_rows": 100, "include_time": False}


def compare(counts: NumericCounts | CategoryCounts) -> dict:
    """Statistics of a window's counts against the reference (no verdict yet)."""
    ref = counts.reference
    entry = {"column": ref["column"], "kind": ref["kind"], "time": bool(ref.get("time")),
             "n": int(counts.n), "missing_rate": _rate(counts.missing, counts.n),
             "reference_missing_rate": _rate(ref["missing"], ref["n"]),
             "invalid": int(counts.invalid), "absent": bool(counts.absent)}
    entry["missing_pvalue"] = missing_test(ref["missing"], ref["n"], counts.missing, counts.n)
    if isinstance(counts, NumericCounts):
        entry.update(_numeric(counts, ref, entry["missing_pvalue"]))
    else:
        entry.update(_categorical(counts, ref))
    return {k: _clean(v) for k, v in entry.items()}


def _numeric(counts: NumericCounts, ref: dict, missing_p: float) -> dict:
    """KS on the present values, combined (Bonferroni) with the missing-rate test when
    either side has missing values; PSI, JS and chi-square on the bins + missing."""
    ref_bins = np.append(ref["bins"]["counts"], ref["missing"])
    bins = np.append(counts.bins(), counts.missing)
    ks, ks_p = ks_from_counts(np.asarray(ref["grid"]["counts"]), counts.cells)
    chi2, chi2_p = chi2_test(ref_bins, bins)
    tests = [] if ks_p is None else [ks_p]
    if ref["missing"] or counts.missing:
        tests.append(missing_p)
    mean, std = counts.moments()
    shift = None
    if counts.n and ref["n"]:
        shift = max(ks or 0.0, abs(counts.missing / counts.n - ref["missing"] / ref["n"]))
    return {"measure": ref.get("measure", "value"), "test": "ks", "shift": shift,
            "pvalue": min(1.0, min(tests) * len(tests)) if tests else None,
            "psi": psi(ref_bins, bins), "js": js_distance(ref_bins, bins), "ks": ks,
            "ks_pvalue": ks_p, "chi2": chi2, "chi2_pvalue": chi2_p,
            "mean": mean, "reference_mean": ref["mean"], "std": std, "reference_std": ref["std"],
            "largest_change": None}


def _categorical(counts: CategoryCounts, ref: dict) -> dict:
    ref_counts = np.array(ref["counts"] + [ref["other"], ref["missing"]], dtype=float)
    window = np.append(counts.counts, counts.missing).astype(float)
    chi2, chi2_p = chi2_test(ref_counts, window)
    out = {"measure": "category", "test": "chi2", "shift": None, "pvalue": chi2_p,
           "psi": psi(ref_counts, window), "js": js_distance(ref_counts, window), "ks": None,
           "ks_pvalue": None, "chi2": chi2, "chi2_pvalue": chi2_p, "mean": None,
           "reference_mean": None, "std": None, "reference_std": None, "largest_change": None}
    if window.sum() > 0 and ref_counts.sum() > 0:
        names = list(ref["categories"]) + ["(other)", "(missing)"]
        before, after = ref_counts / ref_counts.sum(), window / window.sum()
        out["shift"] = float(np.abs(after - before).sum() / 2)
        i = int(np.argmax(np.abs(after - before)))
        out["largest_change"] = {"category": names[i], "reference_share": float(before[i]),
                                 "share": float(after[i])}
    return out


def decide(entry: dict, cutoff: float, t: dict) -> dict:
    """Set ``drifted`` and ``reason`` on an entry from :func:`compare`."""
    entry["drifted"] = False
    if entry["n"] < t["min_rows"]:
        entry["reason"] = f"window too small ({entry['n']} rows < {t['min_rows']}): statistics only"
        return entry
    p, shift = entry["pvalue"], entry["shift"]
    test = "KS" if entry["test"] == "ks" else "chi-square"
    if p is None or p >= cutoff:
        reason = f"no significant change ({test} p={_g(p)} >= {_g(cutoff)})"
    elif (shift or 0.0) < t["min_shift"]:
        reason = f"significant ({test} p={_g(p)}) but small (shift {_f(shift)} < {t['min_shift']})"
    else:
        entry["drifted"] = True
        reason = f"{test} p={_g(p)} < {_g(cutoff)}, shift {_f(shift)}: {_detail(entry)}"
    if entry["absent"]:
        reason += "; column absent from the input"
    if entry["time"] and not t["include_time"]:
        reason += "; time column: reported, not part of the alarm"
    entry["reason"] = reason
    return entry


def _detail(entry: dict) -> str:
    parts = []
    if entry["mean"] is not None and entry["reference_mean"] is not None:
        what = {"unix_seconds": "mean time", "length": "mean length"}.get(entry["measure"], "mean")
        before, after = _value(entry["reference_mean"], entry), _value(entry["mean"], entry)
        parts.append(f"{what} {before} -> {after}")
    change = entry["largest_change"]
    if change:
        parts.append(f"{change['category']!r} {change['reference_share']:.1%} -> "
                     f"{change['share']:.1%}")
    before, after = entry["reference_missing_rate"] or 0.0, entry["missing_rate"] or 0.0
    if abs(after - before) >= 0.01:
        parts.append(f"missing {before:.1%} -> {after:.1%}")
    return ", ".join(parts) or "distribution changed"


def _value(value: float, entry: dict) -> str:
    if entry["measure"] == "unix_seconds":
        return pd.Timestamp(value, unit="s").isoformat(timespec="seconds")
    return _g(value, 4)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _clean(value):
    """JSON-safe: numpy scalars to Python, NaN and infinities to None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _g(value, digits: int = 2) -> str:
    return "n/a" if value is None else f"{value:.{digits}g}"


def _f(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"
