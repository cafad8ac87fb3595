"""Run the data audit on every dataset of the shared corpus, clean and with planted problems.

Measures the false-positive rate of the leakage check on the real (clean) tables, whether
planted leaks and IDs are found, and the audit's wall time:

    .venv/bin/python benchmarks/audit_corpus.py [--datasets-dir ../shared/datasets]

Planted per dataset: ``noisy_copy`` (the target plus noise: 0.2 class units, or 2% of the
target's spread for regression), ``closed_at`` (classification: a date filled in only for
the first class; regression: a date that grows with the target), ``late_date``
(classification: a date later for the first class; regression: the same with 10 days of
noise) and a shuffled ``record_id``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent / "src"))

from mlexpert.audit import audit  # noqa: E402

TASKS = ("binary", "multiclass", "regression")


def plant(df: pd.DataFrame, target: str, task: str, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    out = df.copy()
    y = out[target]
    base = pd.Timestamp("2024-01-01")
    if task == "regression":  # dates that grow with the target (recorded after the outcome)
        values = y.to_numpy(dtype=float)
        out["noisy_copy"] = values + rng.normal(0, 0.02 * values.std(), len(out))
        rank = pd.Series(values).rank(pct=True).to_numpy()
        out["closed_at"] = (base + pd.to_timedelta(np.round(rank * 700), unit="D")).strftime("%Y-%m-%d")
        days = np.round(rank * 700 + rng.normal(0, 10, len(out)))
        out["late_date"] = (base + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
        out["record_id"] = rng.permutation(len(out)) + 10_000
        return out
    else:
        codes = pd.factorize(y)[0]
        group = codes == 0
        out["noisy_copy"] = codes + rng.normal(0, 0.2, len(out))
    dates = base + pd.to_timedelta(rng.integers(0, 365, len(out)), unit="D")
    out["closed_at"] = pd.Series(dates).where(group).dt.strftime("%Y-%m-%d").to_numpy()
    days = np.where(group, rng.integers(200, 400, len(out)), rng.integers(0, 180, len(out)))
    out["late_date"] = (base + pd.to_timedelta(days, unit="D")).strftime("%Y-%m-%d")
    out["record_id"] = rng.permutation(len(out)) + 10_000
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--datasets-dir", type=Path, default=BENCH.parent.parent / "shared" / "datasets")
    args = p.parse_args(argv)
    warnings.simplefilter("ignore")
    manifest = json.loads((args.datasets_dir / "manifest.json").read_text())
    rows, false_pos, planted_found, planted_total = [], 0, 0, 0
    for entry in manifest:
        if entry["task"] not in TASKS:
            continue
        df = pd.read_parquet(args.datasets_dir / entry["file"])
        df = df[df[entry["target"]].notna()].reset_index(drop=True)
        t0 = time.monotonic()
        clean = audit(df, target=entry["target"], task=entry["task"])
        clean_s = time.monotonic() - t0
        flagged = [f.columns[0] for f in clean.by_check("target_leakage")]
        false_pos += bool(flagged)
        dirty = audit(plant(df, entry["target"], entry["task"]), target=entry["target"], task=entry["task"])
        leaks = {f.columns[0]: f.severity for f in dirty.by_check("target_leakage")}
        ids = {c for f in dirty.by_check("identifier") for c in f.columns}
        found = {"noisy_copy": leaks.get("noisy_copy", "-"), "closed_at": leaks.get("closed_at", "-"),
                 "late_date": leaks.get("late_date", "-"), "record_id": "found" if "record_id" in ids else "-"}
        planted_total += 4
        planted_found += sum(v != "-" for v in found.values())
        rows.append((entry["name"], len(df), clean_s, ", ".join(flagged) or "none", found))
        print(f"{entry['name']:20s} {len(df):>8,} rows  audit {clean_s:5.1f}s  clean flags: "
              f"{', '.join(flagged) or 'none'}  planted: {found}", flush=True)
    n = len(rows)
    print(f"\nclean datasets with any leakage finding: {false_pos}/{n}; planted problems found: "
          f"{planted_found}/{planted_total}; max audit time {max(r[2] for r in rows):.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
