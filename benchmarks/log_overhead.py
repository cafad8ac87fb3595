"""What the prediction log costs a request: the same server with the log off and on.

A folder holding one model (adult, LightGBM, fitted here if ``--model`` is not given) is
served twice on loopback, one server with ``--log-sample 0`` (no log) and one with
``--log-sample 1`` (every request logged to the SQLite store), both up at once. Requests
alternate between the two servers in rounds, so machine noise hits both alike:
sequential single-record requests and 100-record requests, timed on the client. Reported:
median and p99 latency per case, their ratio, and the rows the log wrote.

    .venv/bin/python benchmarks/log_overhead.py --requests 600 --out /tmp/log_overhead.json
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

DATASETS = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"


def _model(path: str | None, work: Path) -> Path:
    if path:
        return Path(path)
    import mlexpert

    df = pd.read_parquet(DATASETS / "adult.parquet")
    out = work / "fit"
    mlexpert.fit(df, target="class", time_limit=30, families=("lightgbm",), review=False, out=out)
    return out


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(folder: Path, sample: float) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "mlexpert", "serve", str(folder), "--port", str(port),
                             "--log-sample", str(sample)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(url + "/v2/health/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("server did not start")


def _time(client: httpx.Client, url: str, body) -> float:
    start = time.perf_counter()
    r = client.post(url + "/predict", json=body)
    elapsed = time.perf_counter() - start
    r.raise_for_status()
    return elapsed * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="a model directory (default: fit LightGBM on adult)")
    parser.add_argument("--requests", type=int, default=600, help="requests per server and case")
    parser.add_argument("--out", help="write the results as JSON here")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlexpert-logbench-"))
    servers = []
    try:
        model = _model(args.model, work)
        folders = {}
        for label in ("off", "on"):
            folders[label] = work / label
            shutil.copytree(model, folders[label] / "adult" / "1")
        frame = pd.read_parquet(DATASETS / "adult.parquet").drop(columns="class").head(2000)
        records = json.loads(frame.to_json(orient="records"))
        servers = {label: _start(folders[label], 0.0 if label == "off" else 1.0) for label in folders}
        results = {}
        with httpx.Client(timeout=30) as client:
            for case, size in (("1 record", 1), ("100 records", 100)):
                times = {label: [] for label in servers}
                for label, (_, url) in servers.items():  # warm up
                    for i in range(30):
                        _time(client, url, records[i:i + size])
                for i in range(args.requests):
                    body = records[(i * size) % 1900:(i * size) % 1900 + size]
                    for label, (_, url) in (servers.items() if i % 2 else reversed(servers.items())):
                        times[label].append(_time(client, url, body))
                results[case] = {label: {"p50_ms": float(np.median(t)), "p99_ms": float(np.percentile(t, 99))}
                                 for label, t in times.items()}
                results[case]["p50_ratio_on_off"] = results[case]["on"]["p50_ms"] / results[case]["off"]["p50_ms"]
        time.sleep(1.5)
        import sqlite3

        with sqlite3.connect(folders["on"] / "mlexpert.db") as conn:
            results["rows_logged"] = conn.execute("SELECT count(*) FROM prediction_log").fetchone()[0]
        results["cpu_count"] = os.cpu_count()
        for case in ("1 record", "100 records"):
            r = results[case]
            print(f"| {case} | {r['off']['p50_ms']:.2f} | {r['on']['p50_ms']:.2f} | {r['p50_ratio_on_off']:.3f} "
                  f"| {r['off']['p99_ms']:.2f} | {r['on']['p99_ms']:.2f} |")
        print(f"rows logged: {results['rows_logged']}")
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=2))
    finally:
        for proc, _ in (servers.values() if isinstance(servers, dict) else []):
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(15)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
