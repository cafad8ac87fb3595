"""Compare mlexpert settings on an *inner* split of each dataset's benchmark train split.

Design decisions are checked here, never on the benchmark's test split: the 80% train split
of ``run.py`` (same seed) is split again 75/25 with another seed; each variant fits on the
75% part and is scored on the 25% part with the benchmark's scoring code.

    .venv/bin/python benchmarks/inner_split.py --variants refit=1 refit=0 \
        --datasets auto_mpg,credit_g --budget 30 --max-trials 15
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import scoring  # noqa: E402
from run import TEST_SIZE, _stratified_split, load_manifest, select_datasets  # noqa: E402

INNER_SEED = 1  # differs from the benchmark's split seed (0)


def inner_split(entry: dict, datasets_dir: Path):
    df = pd.read_parquet(datasets_dir / entry["file"])
    df = df[df[entry["target"]].notna()].reset_index(drop=True)
    classification = entry["task"] != "regression"
    (train, _), _ = _stratified_split(df, df[entry["target"]], classification, seed=0,
                                      test_size=TEST_SIZE)
    train = train.reset_index(drop=True)
    (fit_part, valid), _ = _stratified_split(train, train[entry["target"]], classification,
                                             seed=INNER_SEED, test_size=0.25)
    return fit_part, valid


def parse_variant(text: str) -> dict:
    out = {}
    for part in filter(None, text.split(",")):
        key, value = part.split("=", 1)
        out[key] = json.loads(value) if value[:1] in "0123456789-[{tf\"" else value
    if "refit" in out:
        out["refit"] = bool(out["refit"])
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--variants", nargs="+", required=True, help="e.g. refit=1 refit=0")
    p.add_argument("--datasets", default=None)
    p.add_argument("--datasets-dir", type=Path, default=BENCH.parent.parent / "shared" / "datasets")
    p.add_argument("--budget", type=float, default=30)
    p.add_argument("--max-trials", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="append JSON lines here")
    args = p.parse_args(argv)
    import mlexpert

    entries = select_datasets(load_manifest(args.datasets_dir),
                              args.datasets.split(",") if args.datasets else None)
    for entry in entries:
        train, valid = inner_split(entry, args.datasets_dir)
        X_valid, y_valid = valid.drop(columns=[entry["target"]]), valid[entry["target"]]
        line = [entry["name"]]
        for variant in args.variants:
            t0 = time.monotonic()
            model = mlexpert.fit(train, target=entry["target"], task=entry["task"],
                                 metric=entry["metric"], time_limit=args.budget, seed=0, n_jobs=2,
                                 max_trials=args.max_trials, **parse_variant(variant))
            if entry["task"] == "regression":
                pred = {"values": model.predict(X_valid)}
            else:
                pred = {"proba": model.predict_proba(X_valid).to_numpy(float),
                        "classes": list(model.classes_)}
            score = scoring.score(entry["task"], entry["metric"], y_valid, **pred)["primary"]["value"]
            line.append(f"{variant}: {score:.5g} ({time.monotonic() - t0:.0f}s)")
            if args.out:
                with open(args.out, "a") as fh:
                    fh.write(json.dumps({"dataset": entry["name"], "variant": variant,
                                         "metric": entry["metric"], "score": score}) + "\n")
        print(" | ".join(line), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
