"""Time ``run_monitor`` over a large prediction log: 1M logged rows x 100 columns by default.

Issue #6 asks for 1M logged rows x 100 columns in under a minute on 2 cores. This script:

1. makes a synthetic 100-column training table (70 numeric, some with missing values,
   and 30 categorical, 3 to 40 levels) with a binary target;
2. writes a minimal model directory ``ROOT/scale/1/``: ``manifest.json`` (task, metric,
   validation estimate), ``schema.json`` (inferred) and ``reference.json`` (the
   :func:`build_profile` of the training table and of its probabilities). No fitted
   model is needed: monitoring reads these files only, and predictions are logged, not
   recomputed;
3. logs ``--rows`` predictions into a SQLite store (``ROOT/mlexpert.db``) in the format of
   the server's logger (records as JSON, labels, probabilities), the second half shifted
   (two numeric features and one categorical), ``--labelled`` of them with feedback
   (bulk inserts; not part of the measurement);
4. runs ``run_monitor`` and writes the report in a fresh process, measured like the other
   benchmarks (wall time; exact peak RSS from ``wait4``), and prints a Markdown line.

    .venv/bin/python benchmarks/monitor_scale.py                   # 1M rows, 100 columns
    .venv/bin/python benchmarks/monitor_scale.py --rows 200000 --work /tmp/mon-bench
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from run import run_process  # noqa: E402

N_NUMERIC, N_CATEGORICAL = 70, 30
TRAIN_ROWS = 20_000
INSERT_BLOCK = 100_000


def make_table(n: int, seed: int, shifted: bool = False) -> pd.DataFrame:
    """``n`` rows of the synthetic table (``shifted``: the drifted second half)."""
    rng = np.random.default_rng(seed)
    data = {}
    for i in range(N_NUMERIC):
        values = rng.normal(10 + i, 1 + i % 5, n) if i % 3 else rng.lognormal(1 + i % 4, 0.5, n)
        if shifted and i in (0, 1):
            values = values + 2.5 * (1 + i % 5)
        if i % 10 == 5:
            values[rng.random(n) < 0.05] = np.nan
        data[f"num_{i:02d}"] = np.round(values, 3)
    for i in range(N_CATEGORICAL):
        k = 3 + (i * 7) % 38
        p = 1 / np.arange(1, k + 1)
        if shifted and i == 0:
            p = p[::-1]
        data[f"cat_{i:02d}"] = np.array([f"c{i}_{j}" for j in range(k)])[rng.choice(k, n, p=p / p.sum())]
    return pd.DataFrame(data)


def probabilities(frame: pd.DataFrame) -> np.ndarray:
    """The positive-class probability of a fixed logistic 'model'."""
    z = (0.8 * (frame["num_01"] - frame["num_01"].mean()) / 2 - 0.5 * (frame["num_04"] - 14) / 5
         + 0.6 * (frame["cat_00"] == "c0_0") - 0.3)
    return 1 / (1 + np.exp(-z.to_numpy(dtype=float)))


def prepare(root: Path, rows: int, labelled: float) -> None:
    from mlexpert.data.schema import infer_schema
    from mlexpert.monitoring.profile import build_profile, write_profile
    from mlexpert.store import open_store
    from mlexpert.task import Task

    model_dir = root / "scale" / "1"
    model_dir.mkdir(parents=True, exist_ok=True)
    train = make_table(TRAIN_ROWS, seed=0)
    p = probabilities(train)
    train["y"] = (np.random.default_rng(1).random(len(train)) < p).astype(int)
    schema = infer_schema(train, "y")
    task = Task("binary", (0, 1))
    write_profile(build_profile(train, schema, task, output=np.column_stack([1 - p, p])), model_dir)
    (model_dir / "schema.json").write_text(json.dumps(schema.to_dict(), default=str))
    (model_dir / "manifest.json").write_text(json.dumps({
        "task": task.to_dict(), "target": "y", "metric": "roc_auc", "cv_score": 0.70,
        "note": "benchmark stand-in: monitoring reads the manifest, schema and profile only"}))
    store = open_store(f"sqlite:///{root / 'mlexpert.db'}")
    store.close()
    con = sqlite3.connect(root / "mlexpert.db")
    con.execute("PRAGMA synchronous=OFF")
    t0, done = 1_700_000_000.0, 0
    while done < rows:
        n = min(INSERT_BLOCK, rows - done)
        block = make_table(n, seed=100 + done, shifted=done >= rows // 2)
        p = probabilities(block)
        records = block.to_json(orient="records", lines=True).splitlines()
        probs = ('{"0":' + pd.Series(1 - p).round(6).astype(str) + ',"1":'
                 + pd.Series(p).round(6).astype(str) + "}").tolist()
        labels = np.where(p >= 0.5, "1", "0")
        ids = [f"req-{done + i}" for i in range(n)]
        ts = t0 + (done + np.arange(n)) * 0.5
        con.execute("BEGIN")
        con.executemany(
            "INSERT INTO prediction_log (request_id, row, ts, model, version, latency_ms, inputs, "
            "prediction, probabilities, shadow, source) VALUES (?, 0, ?, 'scale', '1', ?, ?, ?, ?, 0, 'api')",
            zip(ids, ts.tolist(), (2 + (np.arange(n) % 17) * 0.3).tolist(), records, labels.tolist(), probs))
        rng = np.random.default_rng(done)
        chosen = np.flatnonzero(rng.random(n) < labelled)
        noise = 0.35 if done >= rows // 2 else 0.0  # the shifted half: the 'model' gets worse
        actual = np.where(rng.random(len(chosen)) < noise, rng.random(len(chosen)) < 0.5,
                          rng.random(len(chosen)) < p[chosen]).astype(int)
        con.executemany("INSERT INTO feedback (request_id, row, actual, ts, source) VALUES (?, 0, ?, ?, 'api')",
                        zip([ids[i] for i in chosen], actual.astype(str).tolist(), (ts[chosen] + 60).tolist()))
        con.execute("COMMIT")
        done += n
        print(f"  logged {done:,} rows", flush=True)
    con.close()


MEASURE = """
import json, resource, sys, time
from mlexpert.monitoring.runner import run_monitor
from mlexpert.monitoring.report import write_monitor_report
root, chunk = sys.argv[1], int(sys.argv[2])
t = time.perf_counter()
result = run_monitor(root, chunk_rows=chunk)
monitor_s = time.perf_counter() - t
t = time.perf_counter()
write_monitor_report(result, root + "/monitoring")
m = result["models"][0]
print("RESULT " + json.dumps({"monitor_s": monitor_s, "report_s": time.perf_counter() - t,
      "rows": result["selection"]["rows"], "windows": len(m["windows"]),
      "cpu_s": sum(resource.getrusage(resource.RUSAGE_SELF)[:2]),
      "drifted": m["drift"]["drifted"], "alerts": [a["kind"] for a in result["summary"]["alerts"]]}))
"""


def measure(root: Path, chunk_rows: int) -> dict:
    log = root / "measure.log"
    run = run_process([sys.executable, "-c", MEASURE, str(root), str(chunk_rows)], log, 1800,
                      dict(os.environ))
    text = log.read_text()
    if run["returncode"] != 0:
        raise SystemExit(f"run_monitor failed:\n{text[-3000:]}")
    found = json.loads(next(line for line in text.splitlines() if line.startswith("RESULT "))[7:])
    return {**run, **found}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--labelled", type=float, default=0.1, help="share of rows with feedback")
    parser.add_argument("--chunk-rows", type=int, default=25_000)
    parser.add_argument("--work", type=Path, default=None, help="folder (reused when it holds the log)")
    parser.add_argument("--cold", action="store_true",
                        help="evict the store from the page cache first (posix_fadvise DONTNEED), "
                             "so it is read from disk as after a reboot")
    args = parser.parse_args()
    root = args.work or Path(tempfile.mkdtemp(prefix="mlexpert-monitor-"))
    if not (root / "mlexpert.db").exists():
        t = time.perf_counter()
        print(f"Preparing {args.rows:,} logged rows x {N_NUMERIC + N_CATEGORICAL} columns in {root}")
        prepare(root, args.rows, args.labelled)
        print(f"  prepared in {time.perf_counter() - t:.0f}s; "
              f"store {(root / 'mlexpert.db').stat().st_size / 2**30:.2f} GiB")
    if args.cold:
        for path in root.glob("mlexpert.db*"):
            with open(path, "rb") as fh:
                os.fsync(fh.fileno())
                os.posix_fadvise(fh.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    r = measure(root, args.chunk_rows)
    print(json.dumps(r, indent=1))
    load = os.getloadavg()[0]
    print(f"\n| rows | columns | chunk | wall (s) | run_monitor (s) | report (s) | CPU (s) | peak RSS (MiB) | cores | load | alerts |\n"
          f"|---|---|---|---|---|---|---|---|---|---|---|\n"
          f"| {r['rows']:,} | {N_NUMERIC + N_CATEGORICAL} | {args.chunk_rows:,} | {r['wall_s']:.1f} | "
          f"{r['monitor_s']:.1f} | {r['report_s']:.1f} | {r['cpu_s']:.1f} | {r['peak_rss_mb']:.0f} | "
          f"{os.cpu_count()} | {load:.1f} | {', '.join(r['alerts']) or 'none'} |  ({platform.machine()})")


if __name__ == "__main__":
    main()
