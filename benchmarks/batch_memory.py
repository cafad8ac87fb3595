"""Peak memory and throughput of ``mlexpert predict`` on a table of >= 5M rows.

The largest shared classification/regression dataset (rows x columns, from the manifest)
is replicated, without its target and with a ``row_id``, into a Parquet file of at least
``--rows`` rows, written one copy at a time (never 5M rows in memory). A LightGBM model is
fitted on a sample. Then each scoring path runs as its own process, measured like the main
benchmark (``run.py``: exact peak RSS from ``wait4``, plus a /proc or psutil poll of the
process tree) with wall time and rows per second:

- ``mlexpert predict MODEL big.parquet --out preds.parquet --keep row_id`` (streaming) for
  each ``--chunk-rows``, and once on a 1,000-row file (the fixed cost: Python, libraries
  and the model);
- the previous whole-table path: ``read_table`` + ``io.predictions_frame`` +
  ``io.write_table``, as ``mlexpert predict`` did before streaming;
- with ``--csv``, streaming from a CSV copy of the same rows.

Both paths' predictions are checked to be identical. A Markdown table is printed.

    .venv/bin/python benchmarks/batch_memory.py                  # ~5.6M rows of donors
    .venv/bin/python benchmarks/batch_memory.py --chunk-rows 100000 1000000 --csv
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import sys
import warnings
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))
from run import DEFAULT_DATASETS_DIR, TASKS, run_process  # noqa: E402

OLD_PATH = """
import sys, warnings
warnings.simplefilter("ignore")
import mlexpert
from mlexpert.data.ingest import read_table
from mlexpert.io import predictions_frame, write_table
model = mlexpert.load(sys.argv[1])
frame = read_table(sys.argv[2])
write_table(predictions_frame(model, frame, keep=("row_id",)), sys.argv[3])
"""


def largest_dataset(datasets_dir: Path) -> dict:
    manifest = json.loads((datasets_dir / "manifest.json").read_text())
    usable = [d for d in manifest if d["task"] in TASKS]
    return max(usable, key=lambda d: d["rows"] * d["columns"])


def replicate(entry: dict, datasets_dir: Path, rows: int, workdir: Path) -> tuple[Path, int]:
    """``entry`` repeated into a Parquet file of >= ``rows`` rows (cached by name)."""
    base = pd.read_parquet(datasets_dir / entry["file"]).drop(columns=entry["target"])
    copies = math.ceil(rows / len(base))
    path = workdir / f"{entry['name']}_x{copies}.parquet"
    if path.exists():
        return path, pq.ParquetFile(path).metadata.num_rows
    tmp = path.with_suffix(".tmp")
    writer = None
    for k in range(copies):
        part = base.assign(row_id=range(k * len(base), (k + 1) * len(base)))
        table = pa.Table.from_pandas(part, preserve_index=False)
        writer = writer or pq.ParquetWriter(tmp, table.schema)
        writer.write_table(table)  # one row group per copy (pyarrow's default cap is 1Mi rows)
    writer.close()
    os.replace(tmp, path)
    return path, copies * len(base)


def to_csv(parquet: Path) -> Path:
    path = parquet.with_suffix(".csv")
    if not path.exists():
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w") as fh:
            for i, batch in enumerate(pq.ParquetFile(parquet).iter_batches(batch_size=500_000)):
                batch.to_pandas().to_csv(fh, index=False, header=i == 0)
        os.replace(tmp, path)
    return path


def fit_model(entry: dict, datasets_dir: Path, workdir: Path, sample: int, budget: float) -> Path:
    import mlexpert

    out = workdir / f"model_{entry['name']}"
    if not (out / "manifest.json").exists():
        df = pd.read_parquet(datasets_dir / entry["file"])
        df = df.sample(min(sample, len(df)), random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            # a holdout split (as fit picks for tables over 100k rows): one model, not 5 folds
            result = mlexpert.fit(df, target=entry["target"], time_limit=budget, holdout_rows=10_000,
                                  families=("lightgbm",), review=False)
        result.save(out, report=False)
    return out


def describe(model_dir: Path) -> str:
    import mlexpert

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = mlexpert.load(model_dir).pipeline
    trees = [m.num_trees() for member in pipeline.members for m in member.models if hasattr(m, "num_trees")]
    return f"model: {len(pipeline.members)} member(s), {len(trees)} LightGBM booster(s), {sum(trees)} trees"


def measure(label: str, chunk: str, cmd: list[str], rows: int, workdir: Path) -> dict:
    """Run ``cmd`` as ``run.py`` runs a cell, under /usr/bin/time when there is one.

    A child's ``ru_maxrss`` starts at its parent's peak (it is taken over at exec), and this
    process holds a fitted model and pandas: /usr/bin/time, a small parent, gives the
    command's own peak; the /proc (or psutil) poll of its process tree is kept too.
    """
    timer = Path("/usr/bin/time")
    peak_file = workdir / "peak_kb.txt"
    wrapped = [str(timer), "-f", "%M", "-o", str(peak_file), *cmd] if timer.exists() else cmd
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    res = run_process(wrapped, workdir / "run.log", hard_limit_s=3600, env=env)
    if res["returncode"] != 0:
        sys.exit(f"error: {label} failed:\n{(workdir / 'run.log').read_text()[-3000:]}")
    if timer.exists():
        res["peak_rss_mb"] = round(int(peak_file.read_text().split()[-1]) / 1024, 1)
        res["memory_method"] = "/usr/bin/time %M (max RSS of the command)"
        res.pop("peak_rss_max_single_process_mb")  # /usr/bin/time's own, inherited from here
    row = {"path": label, "chunk_rows": chunk, "rows": rows, **res,
           "rows_per_s": round(rows / res["wall_s"])}
    print(f"  {label:24} chunk {chunk:>9}: {res['peak_rss_mb']:8.0f} MB (tree poll "
          f"{res['peak_rss_polled_mb']:.0f} MB)  {res['wall_s']:7.1f} s  {row['rows_per_s']:>9,} rows/s",
          flush=True)
    return row


def check_same(a: Path, b: Path) -> None:
    left, right = pd.read_parquet(a), pd.read_parquet(b)
    if not left.equals(right):
        sys.exit(f"error: predictions differ between {a.name} and {b.name}")


def markdown(rows: list[dict]) -> str:
    lines = ["| scoring path | input | chunk rows | rows | peak RSS (MB) | tree poll (MB) | wall (s) "
             "| rows/s |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['path']} | {r['input']} | {r['chunk_rows']} | {r['rows']:,} | "
                     f"{r['peak_rss_mb']:,.0f} | {r['peak_rss_polled_mb']:,.0f} | {r['wall_s']:.1f} | "
                     f"{r['rows_per_s']:,} |")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=5_000_000, help="at least this many rows")
    p.add_argument("--chunk-rows", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--csv", action="store_true", help="also stream from a CSV copy")
    p.add_argument("--no-old", action="store_true", help="skip the whole-table path")
    p.add_argument("--sample", type=int, default=50_000, help="rows to fit the model on")
    p.add_argument("--budget", type=float, default=30, help="fit time limit (s)")
    p.add_argument("--datasets-dir", type=Path, default=DEFAULT_DATASETS_DIR)
    p.add_argument("--workdir", type=Path, default=Path("/tmp/mlexpert-batch"))
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    entry = largest_dataset(args.datasets_dir)
    big, n = replicate(entry, args.datasets_dir, args.rows, args.workdir)
    model = fit_model(entry, args.datasets_dir, args.workdir, args.sample, args.budget)
    tiny = args.workdir / "tiny.parquet"
    pq.write_table(pq.read_table(big).slice(0, 1000), tiny)
    print(f"{entry['name']}: {n:,} rows x {pq.ParquetFile(big).metadata.num_columns} columns "
          f"({big.stat().st_size / 2**20:.0f} MB Parquet, {pq.ParquetFile(big).num_row_groups} "
          f"row groups); {os.cpu_count()} CPUs, Python {platform.python_version()}", flush=True)
    print(describe(model), flush=True)
    cli = [sys.executable, "-m", "mlexpert", "predict", str(model)]
    out = args.workdir / "preds_stream.parquet"
    results = []
    for label, source, chunk, rows in ([("streaming (fixed cost)", tiny, args.chunk_rows[0], 1000)]
                                       + [("streaming", big, c, n) for c in args.chunk_rows]):
        cmd = [*cli, str(source), "--out", str(out), "--keep", "row_id", "--chunk-rows", str(chunk)]
        results.append({"input": source.suffix[1:], **measure(label, f"{chunk:,}", cmd, rows, args.workdir)})
    if args.csv:
        csv = to_csv(big)
        cmd = [*cli, str(csv), "--out", str(args.workdir / "preds_csv.parquet"), "--keep", "row_id",
               "--chunk-rows", str(args.chunk_rows[0])]
        row = measure("streaming", f"{args.chunk_rows[0]:,}", cmd, n, args.workdir)
        results.append({"input": "csv", **row})
        check_same(out, args.workdir / "preds_csv.parquet")
    if not args.no_old:
        old = args.workdir / "preds_whole.parquet"
        cmd = [sys.executable, "-c", OLD_PATH, str(model), str(big), str(old)]
        results.append({"input": "parquet", **measure("whole table (before)", "-", cmd, n, args.workdir)})
        check_same(out, old)
        print("predictions identical: streaming == whole table", flush=True)
    print(f"\nload average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print(markdown(results))
    (args.workdir / "batch_memory.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
