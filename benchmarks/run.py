"""Run the benchmark: every (dataset, framework, budget) cell in its own process.

For each binary / multiclass / regression dataset of the manifest, rows with a missing
target are dropped, then one fixed 80/20 split is made (seed 0, stratified for
classification) and written to Parquet. Each framework then runs as a separate process
(``benchmarks/frameworks/<name>.py``) that fits on the train split, predicts the test
split and scores it with ``benchmarks/scoring.py``. This parent measures the peak memory
of the worker's process tree, its wall time, and kills it at ``budget * 1.5 + 60`` s.

One JSON per cell: ``<results-dir>/<budget>/<framework>/<dataset>.json`` (and the worker's
output in ``<dataset>.log``). Cells whose JSON exists are skipped unless ``--force``
(or ``--retry-failed`` for cells that did not finish with status ok).

    .venv/bin/python benchmarks/run.py --budget 60
    .venv/bin/python benchmarks/report.py
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
FRAMEWORKS_DIR = BENCH_DIR / "frameworks"
DEFAULT_DATASETS_DIR = REPO_ROOT / ".." / "shared" / "datasets"
DEFAULT_RESULTS_DIR = BENCH_DIR / "results"
TASKS = ("binary", "multiclass", "regression")
POLL_S = 0.2
THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_WAIT_POLICY")
TEST_SIZE = 0.2

try:
    import psutil
except ImportError:  # the /proc and rusage fallbacks below are used instead
    psutil = None


# ---------------------------------------------------------------- datasets and splits

def load_manifest(datasets_dir: Path) -> list[dict]:
    path = datasets_dir / "manifest.json"
    if not path.exists():
        sys.exit(f"error: no manifest at {path} (use --datasets-dir)")
    return json.loads(path.read_text())


def select_datasets(manifest: list[dict], names: list[str] | None) -> list[dict]:
    usable = [d for d in manifest if d["task"] in TASKS]
    if not names:
        return usable
    by_name = {d["name"]: d for d in manifest}
    chosen = []
    for name in names:
        entry = by_name.get(name)
        if entry is None:
            print(f"warning: dataset {name!r} is not in the manifest; skipped", file=sys.stderr)
        elif entry["task"] not in TASKS:
            print(f"warning: dataset {name!r} is a {entry['task']} task, which this benchmark "
                  f"does not cover ({', '.join(TASKS)}); skipped", file=sys.stderr)
        elif entry not in chosen:
            chosen.append(entry)
    return chosen


def _stratified_split(df, y, classification: bool, seed: int, **kw):
    """train_test_split, stratified for classification (plain if a class is too rare)."""
    from sklearn.model_selection import train_test_split

    if classification:
        try:
            return train_test_split(df, random_state=seed, stratify=y, **kw), True
        except ValueError:  # a class with a single row cannot be stratified
            pass
    return train_test_split(df, random_state=seed, **kw), False


def make_split(entry: dict, datasets_dir: Path, seed: int, max_rows: int | None, workdir: Path):
    """Write train/test Parquet files for one dataset; return (paths, split facts)."""
    import pandas as pd

    df = pd.read_parquet(datasets_dir / entry["file"])
    target = entry["target"]
    n_all = len(df)
    df = df[df[target].notna()].reset_index(drop=True)
    classification = entry["task"] != "regression"
    (train, test), stratified = _stratified_split(df, df[target], classification, seed,
                                                  test_size=TEST_SIZE)
    n_train_full = len(train)
    if max_rows and len(train) > max_rows:
        (train, _), _ = _stratified_split(train, train[target], classification, seed,
                                          train_size=max_rows)
    digest = hashlib.sha256(",".join(map(str, test.index)).encode()).hexdigest()[:16]
    paths = {"train": workdir / f"{entry['name']}.train.parquet",
             "test": workdir / f"{entry['name']}.test.parquet"}
    train.to_parquet(paths["train"], index=False)
    test.to_parquet(paths["test"], index=False)
    facts = {"seed": seed, "test_size": TEST_SIZE, "stratified": stratified,
             "rows": n_all, "rows_missing_target": n_all - len(df),
             "n_train": len(train), "n_train_before_max_rows": n_train_full,
             "n_test": len(test), "max_rows": max_rows, "test_index_sha256": digest}
    return paths, facts


# ---------------------------------------------------------------- process monitoring

def _proc_group_rss(pgid: int) -> int:
    """Sum of RSS (bytes) of every process in the group, read from /proc (Linux)."""
    total, page = 0, os.sysconf("SC_PAGE_SIZE")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            # fields[0] is state (field 3); pgrp is field 5, rss (pages) field 24
            if int(fields[2]) == pgid:
                total += int(fields[21]) * page
        except (OSError, IndexError, ValueError):
            continue
    return total


class TreeMemory:
    """Peak RSS of a process and all its descendants, sampled every POLL_S seconds."""

    def __init__(self, pid: int):
        self.pid, self.peak = pid, 0
        if psutil is not None:
            self.method = "psutil tree poll 0.2s"
            try:
                self._root = psutil.Process(pid)
            except psutil.Error:
                self._root = None
        elif Path("/proc/self/stat").exists():
            self.method = "/proc process-group poll 0.2s"
        else:
            self.method = "rusage"

    def sample(self) -> None:
        if psutil is not None:
            if self._root is None:
                return
            total = 0
            try:
                procs = [self._root, *self._root.children(recursive=True)]
            except psutil.Error:
                return
            for proc in procs:
                try:
                    total += proc.memory_info().rss
                except psutil.Error:
                    pass
        elif self.method.startswith("/proc"):
            total = _proc_group_rss(self.pid)
        else:
            return
        self.peak = max(self.peak, total)


def _maxrss_bytes(ru_maxrss: int) -> int:
    return ru_maxrss if sys.platform == "darwin" else ru_maxrss * 1024


def run_process(cmd: list[str], log_path: Path, hard_limit_s: float, env: dict) -> dict:
    """Run ``cmd`` in its own session; poll memory; SIGKILL the group at ``hard_limit_s``."""
    start = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True, cwd=REPO_ROOT)
        memory = TreeMemory(proc.pid)
        timed_out, rusage, status = False, None, None
        try:
            while True:
                pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
                if pid == proc.pid:
                    break
                memory.sample()
                if time.monotonic() - start > hard_limit_s:
                    timed_out = True
                    _kill_group(proc.pid)
                    _, status, rusage = os.wait4(proc.pid, 0)
                    break
                time.sleep(POLL_S)
        except BaseException:  # Ctrl-C: leave no worker behind
            _kill_group(proc.pid)
            try:
                os.wait4(proc.pid, 0)
            except ChildProcessError:
                pass
            raise
        finally:
            proc.returncode = os.waitstatus_to_exitcode(status) if status is not None else -9
    # the worker's own process tree is gone; reap any stragglers left in its group
    _kill_group(proc.pid)
    peak_rusage = _maxrss_bytes(rusage.ru_maxrss) if rusage is not None else 0
    if memory.method == "rusage" and peak_rusage == 0:  # last resort: all children so far
        import resource

        peak_rusage = _maxrss_bytes(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    peak = max(memory.peak, peak_rusage)
    return {"returncode": proc.returncode, "timed_out": timed_out,
            "wall_s": round(time.monotonic() - start, 3),
            "peak_rss_mb": round(peak / 2**20, 1),
            "peak_rss_polled_mb": round(memory.peak / 2**20, 1),
            "peak_rss_max_single_process_mb": round(peak_rusage / 2**20, 1),
            "memory_method": f"{memory.method} + wait4 ru_maxrss"}


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _tail(path: Path, n: int = 4000) -> str:
    try:
        data = path.read_bytes()
    except OSError:
        return ""
    return data[-n:].decode("utf-8", "replace")


# ---------------------------------------------------------------- cells

def budget_label(budget: float) -> str:
    return str(int(budget)) if float(budget).is_integer() else str(budget)


def cell_path(results_dir: Path, budget: float, framework: str, dataset: str) -> Path:
    return results_dir / budget_label(budget) / framework / f"{dataset}.json"


def needs_run(path: Path, force: bool, retry_failed: bool) -> bool:
    if force or not path.exists():
        return True
    if retry_failed:
        try:
            return json.loads(path.read_text()).get("status") != "ok"
        except (OSError, ValueError):
            return True
    return False


def run_cell(entry: dict, framework: str, budget: float, split_paths: dict, split: dict,
             args, python: str, out_path: Path) -> dict:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    worker_json = out_path.with_name(out_path.stem + ".worker.json")
    log_path = out_path.with_suffix(".log")
    worker_json.unlink(missing_ok=True)
    cmd = [python, str(FRAMEWORKS_DIR / f"{framework}.py"),
           "--train", str(split_paths["train"]), "--test", str(split_paths["test"]),
           "--budget", str(budget), "--seed", str(args.seed), "--task", entry["task"],
           "--target", entry["target"], "--metric", entry["metric"],
           "--out", str(worker_json), "--n-jobs", str(args.n_jobs), "--dataset", entry["name"]]
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, str(args.n_jobs))
    env.setdefault("PYTHONHASHSEED", "0")
    env["PYTHONUNBUFFERED"] = "1"
    hard_limit = budget * 1.5 + 60
    started = datetime.now(timezone.utc).isoformat(timespec="seconds")
    proc = run_process(cmd, log_path, hard_limit, env)

    doc = {"dataset": entry["name"], "framework": framework, "budget_s": budget,
           "task": entry["task"], "metric": entry["metric"], "target": entry["target"],
           "seed": args.seed, "n_jobs": args.n_jobs}
    worker = {}
    if worker_json.exists():
        try:
            worker = json.loads(worker_json.read_text())
        except ValueError:
            worker = {}
        worker_json.unlink(missing_ok=True)
    doc.update(worker)
    if proc["timed_out"]:
        status, error = "timeout", f"killed after {proc['wall_s']:.0f} s (hard limit {hard_limit:.0f} s)"
    elif not worker:
        status, error = "crashed", f"worker exited with code {proc['returncode']} without a result"
    else:
        status, error = worker.get("status", "error"), worker.get("error")
    doc.update(status=status, error=error, **proc, hard_limit_s=hard_limit, split=split,
               started_at=started,
               finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
               host={"cpus": os.cpu_count(), "platform": platform.platform(),
                     "python": python},
               command=args.command, worker_command=shlex.join(cmd), log=str(log_path),
               env={k: env[k] for k in THREAD_ENV if k in env})
    fit_s = doc.get("fit_s")
    doc["over_budget"] = bool(status == "timeout" or
                              (fit_s is not None and fit_s > budget * 1.1 + 5))
    if status != "ok":
        doc["log_tail"] = _tail(log_path)
    tmp = out_path.with_name(out_path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    os.replace(tmp, out_path)
    return doc


def _summary_line(doc: dict) -> str:
    if doc["status"] != "ok":
        return f"{doc['status'].upper()}: {doc.get('error')}"
    p = doc["primary"]
    parts = [f"{p['name']}={p['value']:.5g}", f"fit {doc['fit_s']:.1f}s ({doc['fit_budget_ratio']:.2f}x)",
             f"{doc.get('predict_rows_per_s') or 0:,.0f} rows/s", f"peak {doc['peak_rss_mb']:.0f} MB",
             f"artifact {doc.get('artifact_bytes', 0) / 2**20:.2f} MB"]
    if doc.get("reload_error"):
        parts.append(f"RELOAD FAILED: {doc['reload_error']}")
    return "  ".join(parts)


# ---------------------------------------------------------------- main

def available_frameworks() -> list[str]:
    return sorted(p.stem for p in FRAMEWORKS_DIR.glob("*.py") if not p.stem.startswith("_"))


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--budget", default="60",
                   help="time budget in seconds per fit; several as 10,60 (default 60)")
    p.add_argument("--frameworks", default="mlexpert,baseline",
                   help=f"comma-separated, from: {', '.join(available_frameworks())}")
    p.add_argument("--datasets", default=None,
                   help="comma-separated subset of the manifest (default: every binary, "
                        "multiclass and regression dataset)")
    p.add_argument("--datasets-dir", type=Path, default=DEFAULT_DATASETS_DIR,
                   help="folder with manifest.json and the Parquet files (default ../shared/datasets)")
    p.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR,
                   help="where the cell JSONs go (default benchmarks/results)")
    p.add_argument("--max-rows", type=int, default=None,
                   help="subsample the train split to N rows (smoke runs only; off by default)")
    p.add_argument("--force", action="store_true", help="re-run cells that already have a JSON")
    p.add_argument("--retry-failed", action="store_true",
                   help="re-run cells whose JSON records a failure")
    p.add_argument("--seed", type=int, default=0, help="split and fit seed (default 0)")
    p.add_argument("--n-jobs", type=int, default=2, help="threads given to each fit (default 2)")
    p.add_argument("--python", action="append", default=[], metavar="FRAMEWORK=PATH",
                   help="interpreter for a framework's worker (default: this one)")
    args = p.parse_args(argv)
    try:
        args.budgets = [float(b) for b in str(args.budget).split(",") if b.strip()]
    except ValueError:
        p.error(f"--budget must be numbers, got {args.budget!r}")
    if not args.budgets or any(b <= 0 for b in args.budgets):
        p.error("--budget must be positive")
    args.framework_list = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    unknown = sorted(set(args.framework_list) - set(available_frameworks()))
    if unknown:
        p.error(f"unknown framework(s) {unknown}; available: {available_frameworks()}")
    args.pythons = {}
    for item in args.python:
        name, sep, path = item.partition("=")
        if not sep:
            p.error(f"--python expects FRAMEWORK=PATH, got {item!r}")
        args.pythons[name] = path
    if args.max_rows is not None and args.max_rows < 10:
        p.error("--max-rows must be at least 10")
    args.datasets_dir = args.datasets_dir.resolve()
    args.results_dir = args.results_dir.resolve()
    return args


def _reproduce_command(args, argv) -> str:
    given = list(argv if argv is not None else sys.argv[1:])
    # --force / --retry-failed decide what is re-run, not what the results are
    env = [f"{k}={os.environ[k]}" for k in ("OMP_WAIT_POLICY",) if k in os.environ]
    parts = env + ["python", "benchmarks/run.py"] + [a for a in given if a not in ("--force", "--retry-failed")]
    return shlex.join(parts)


def main(argv=None) -> int:
    args = parse_args(argv)
    args.command = _reproduce_command(args, argv)
    manifest = load_manifest(args.datasets_dir)
    names = [n.strip() for n in args.datasets.split(",")] if args.datasets else None
    datasets = select_datasets(manifest, names)
    if not datasets:
        print("error: no dataset to run", file=sys.stderr)
        return 2
    cells = [(d, f, b) for d in datasets for f in args.framework_list for b in args.budgets]
    todo = [c for c in cells if needs_run(cell_path(args.results_dir, c[2], c[1], c[0]["name"]),
                                          args.force, args.retry_failed)]
    print(f"{len(cells)} cells ({len(datasets)} datasets x {len(args.framework_list)} frameworks x "
          f"{len(args.budgets)} budgets); {len(cells) - len(todo)} already done, {len(todo)} to run; "
          f"results in {args.results_dir}; memory: "
          f"{'psutil' if psutil else 'no psutil, /proc + wait4 rusage'}", flush=True)
    counts = {"ok": 0, "failed": 0}
    with tempfile.TemporaryDirectory(prefix="mlexpert-bench-splits-") as workdir:
        for i, entry in enumerate(datasets):
            mine = [c for c in todo if c[0] is entry]
            if not mine:
                continue
            try:
                paths, split = make_split(entry, args.datasets_dir, args.seed, args.max_rows,
                                          Path(workdir))
            except Exception as exc:  # noqa: BLE001  (unreadable dataset: record and go on)
                print(f"error: could not split {entry['name']}: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
                counts["failed"] += len(mine)
                continue
            for _, framework, budget in mine:
                n = todo.index((entry, framework, budget)) + 1
                print(f"[{n}/{len(todo)}] {entry['name']} ({entry['task']}, {split['n_train']} train "
                      f"rows) {framework} @ {budget_label(budget)}s ...", end=" ", flush=True)
                python = args.pythons.get(framework, sys.executable)
                doc = run_cell(entry, framework, budget, paths, split, args, python,
                               cell_path(args.results_dir, budget, framework, entry["name"]))
                counts["ok" if doc["status"] == "ok" else "failed"] += 1
                print(_summary_line(doc), flush=True)
            for path in paths.values():
                path.unlink(missing_ok=True)
    print(f"done: {counts['ok']} ok, {counts['failed']} failed, {len(cells) - len(todo)} skipped. "
          f"Report: python benchmarks/report.py --results-dir {args.results_dir}")
    return 0 if counts["failed"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
