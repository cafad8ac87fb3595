"""Turn the benchmark cells into Markdown tables in docs/benchmarks.md.

Reads ``<results-dir>/<budget>/<framework>/<dataset>.json`` (written by run.py) and, for
each budget, writes or refreshes the block between ``<!-- results:<budget> -->`` and
``<!-- /results:<budget> -->``; the reproduce commands at the top sit between
``<!-- reproduce -->`` and ``<!-- /reproduce -->``. Anything else in the file is kept.

    .venv/bin/python benchmarks/report.py [--results-dir benchmarks/results] [--output docs/benchmarks.md]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import statistics
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
sys.path.insert(0, str(BENCH_DIR))

from scoring import relative_loss  # noqa: E402

TIE = 0.001  # relative difference under which two scores are a tie (0.1%)
ARROW = {True: "↑", False: "↓"}
DIRECTION = {"roc_auc": True, "log_loss": False, "rmse": False, "accuracy": True,
             "balanced_accuracy": True, "f1_macro": True, "mae": False, "r2": True}

INTRO = """# Benchmarks

How mlexpert compares with a plain scikit-learn baseline
(`HistGradientBoosting` with default settings) on the public datasets in
`../shared/datasets` (binary, multiclass and regression tasks only).

- **Protocol.** One fixed 80/20 split per dataset (seed 0, stratified for classification,
  rows with a missing target dropped first). Each framework fits on the 80% in its own
  process, with the time budget given to it; the 20% test split is scored by the same code
  for every framework (`benchmarks/scoring.py`). Primary metric: ROC AUC (binary), log loss
  (multiclass), RMSE (regression).
- **What is measured.** Test score; fit wall time and fit/budget (a fit counts as over
  budget above budget × 1.1 + 5 s; a worker is killed at budget × 1.5 + 60 s); prediction
  throughput (`predict_proba`/`predict` over the whole test split in one call; the fastest
  of up to 3 calls); peak resident
  memory of the worker's process tree; size of the saved model.
- **Machine.** 2 CPU cores; mlexpert runs with `n_jobs=2`. Timings, throughput and
  therefore what an AutoML search manages within its budget are noisy (other load on the
  machine, small test splits): compare scores across runs, and read times as rough.

See `benchmarks/README.md` for options (subsets, other budgets, resuming).
"""


# ---------------------------------------------------------------- loading

def load_cells(results_dir: Path) -> dict[str, dict[str, dict[str, dict]]]:
    """{budget label: {framework: {dataset: cell}}}."""
    cells: dict = {}
    for path in sorted(results_dir.glob("*/*/*.json")):
        if path.name.endswith(".worker.json"):
            continue
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            print(f"warning: unreadable cell {path}", file=sys.stderr)
            continue
        budget, framework, dataset = path.parent.parent.name, path.parent.name, path.stem
        cells.setdefault(budget, {}).setdefault(framework, {})[dataset] = doc
    return cells


def _budget_key(label: str) -> float:
    try:
        return float(label)
    except ValueError:
        return math.inf


# ---------------------------------------------------------------- comparisons

def _ok(doc: dict | None) -> bool:
    return bool(doc) and doc.get("status") == "ok" and doc.get("primary", {}).get("value") is not None \
        and math.isfinite(doc["primary"]["value"])


def compare(a: dict | None, b: dict | None) -> int:
    """+1 if a beats b, 0 for a tie (within 0.1% relative, or both failed), -1 if a loses."""
    if not _ok(a) and not _ok(b):
        return 0
    if not _ok(b):
        return 1
    if not _ok(a):
        return -1
    x, y = a["primary"]["value"], b["primary"]["value"]
    if abs(x - y) <= TIE * max(abs(x), abs(y), 1e-12):
        return 0
    better = x > y if a["primary"]["greater_is_better"] else x < y
    return 1 if better else -1


def ranks(row: dict[str, dict | None]) -> dict[str, float]:
    """Rank per framework on one dataset: 1 + losses + ties/2 (failures rank last)."""
    out = {}
    for f, doc in row.items():
        results = [compare(doc, other) for g, other in row.items() if g != f]
        out[f] = 1 + sum(r < 0 for r in results) + 0.5 * sum(r == 0 for r in results)
    return out


def normalised(row: dict[str, dict | None]) -> dict[str, float]:
    """Per framework on one dataset: 1 = best score, 0 = worst (a failure scores 0)."""
    values = {f: d["primary"]["value"] for f, d in row.items() if _ok(d)}
    if not values:
        return {f: 0.0 for f in row}
    sign = 1.0 if next(d for d in row.values() if _ok(d))["primary"]["greater_is_better"] else -1.0
    lo, hi = min(sign * v for v in values.values()), max(sign * v for v in values.values())
    return {f: (sign * values[f] - lo) / (hi - lo) if f in values and hi > lo else float(f in values)
            for f in row}


def resources_vs(main: dict[str, dict], other: dict[str, dict], speedup: float = 3.0) -> dict:
    """Issue #3's per-dataset resource targets of ``main`` against ``other``.

    ``memory``: datasets where both ran, and those where main's peak RSS is at or below
    other's (with the largest excess). ``throughput``: datasets where main scores at least
    as well (a tie counts), and those among them where main predicts >= ``speedup`` x as
    many rows per second.
    """
    both = sorted(ds for ds in main if ds in other and _ok(main[ds]) and _ok(other[ds]))
    peaks = [(ds, main[ds].get("peak_rss_mb"), other[ds].get("peak_rss_mb")) for ds in both]
    peaks = [(ds, a, b) for ds, a, b in peaks if a and b]
    above = sorted(((a - b, ds, a, b) for ds, a, b in peaks if a > b), reverse=True)
    as_good = [ds for ds in both if compare(main[ds], other[ds]) >= 0]
    rates = [(ds, main[ds].get("predict_rows_per_s"), other[ds].get("predict_rows_per_s"))
             for ds in as_good]
    fast = [ds for ds, a, b in rates if a and b and a >= speedup * b]
    return {"memory_compared": len(peaks), "memory_at_or_below": len(peaks) - len(above),
            "memory_above": [(ds, a, b) for _, ds, a, b in above],
            "as_good": len(as_good), "fast": len(fast), "speedup": speedup,
            "slow": [ds for ds in as_good if ds not in fast]}


def resource_lines(main_name: str, other_name: str, r: dict) -> list[str]:
    worst = r["memory_above"][:3]
    lines = [f"  - peak memory at or below {other_name}'s on **{r['memory_at_or_below']}/"
             f"{r['memory_compared']}** datasets" + (
                 "; largest excess: " + ", ".join(f"{ds} {a:,.0f} vs {b:,.0f} MB" for ds, a, b in worst)
                 if worst else "") + ".",
             f"  - where {main_name} scores at least as well ({r['as_good']} datasets), it predicts "
             f">= {r['speedup']:g}x as many rows/s on **{r['fast']}/{r['as_good']}**" + (
                 f" (not on: {', '.join(r['slow'])})" if r["slow"] else "") + "."]
    return lines


# ---------------------------------------------------------------- formatting

def fmt_value(v) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.1f}"
    if a >= 10:
        return f"{v:.2f}"
    return f"{v:.4f}"


def fmt_num(v, digits=1, unit="") -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{v:,.{digits}f}{unit}"


def fmt_rate(v) -> str:
    if v is None:
        return "–"
    return f"{v / 1000:,.1f}k" if v >= 1000 else f"{v:,.0f}"


def cell_text(doc: dict | None, best: bool) -> str:
    if doc is None:
        return "not run"
    if not _ok(doc):
        return f"*{doc.get('status', 'error')}*"
    text = fmt_value(doc["primary"]["value"])
    return f"**{text}**" if best else text


def _median(values):
    values = [v for v in values if v is not None and math.isfinite(v)]
    return statistics.median(values) if values else None


def _over_budget(doc: dict) -> bool:
    if doc.get("status") == "timeout":
        return True
    fit_s, budget = doc.get("fit_s"), doc.get("budget_s")
    return fit_s is not None and budget is not None and fit_s > budget * 1.1 + 5


def _short(text, n=140) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------- one budget

RESOURCE_ANCHORS = ("autogluon_best", "autogluon_medium")  # issue #3's memory/speed targets


def budget_block(label: str, by_framework: dict[str, dict[str, dict]], main: str,
                 reference: str, resource_anchors=RESOURCE_ANCHORS) -> str:
    frameworks = sorted(by_framework, key=lambda f: (f != main, f != reference, f))
    others = [f for f in frameworks if f != main]
    datasets = sorted({d for cells in by_framework.values() for d in cells})
    lines = [f"### Budget {label} s", ""]
    docs = [doc for cells in by_framework.values() for doc in cells.values()]
    cpus = sorted({str(d.get("host", {}).get("cpus")) for d in docs})
    subsampled = sorted({d.get("split", {}).get("max_rows") for d in docs} - {None})
    finished = max((d.get("finished_at") or "" for d in docs), default="")
    lines.append(f"{len(datasets)} datasets; frameworks: {', '.join(frameworks)}; "
                 f"CPUs: {', '.join(cpus)}; last cell finished {finished or '?'}.")
    if subsampled:
        lines.append(f"**Smoke run: train splits subsampled to {subsampled} rows; "
                     "scores are not comparable with full runs.**")
    lines.append("")

    # per-dataset table
    header = ["dataset", "task", "metric", *frameworks, f"{main} fit/budget", f"{main} rows/s",
              f"{main} peak MB", f"{main} artifact MB"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    complete = []
    for ds in datasets:
        row = {f: by_framework[f].get(ds) for f in frameworks}
        any_doc = next(d for d in row.values() if d)
        metric = any_doc.get("metric", "?")
        if all(d is not None for d in row.values()):
            complete.append(ds)
        oks = {f: d for f, d in row.items() if _ok(d)}
        best = {f for f, d in oks.items() if all(compare(d, o) >= 0 for o in oks.values())}
        m = row.get(main) or {}
        ratio = m.get("fit_budget_ratio")
        ratio_text = fmt_num(ratio, 2) + (" ⚠" if m and _over_budget(m) else "")
        if m.get("status") == "timeout":
            ratio_text = f">{m.get('hard_limit_s', 0) / float(label):.2f} ⚠"
        artifact = m.get("artifact_bytes")
        lines.append("| " + " | ".join([
            ds, any_doc.get("task", "?"), f"{metric} {ARROW.get(DIRECTION.get(metric), '')}".strip(),
            *[cell_text(row[f], f in best) for f in frameworks],
            ratio_text if m else "–", fmt_rate(m.get("predict_rows_per_s")),
            fmt_num(m.get("peak_rss_mb"), 0), fmt_num(artifact / 2**20 if artifact else None, 2),
        ]) + " |")
    lines.append("")
    lines.append("Best score per row in bold (ties within 0.1% relative). "
                 "⚠ = fit over budget × 1.1 + 5 s. *error/crashed/timeout* = no score.")
    lines.append("")

    # summary per framework
    lines.append("#### Summary")
    lines.append("")
    missing = [ds for ds in datasets if ds not in complete]
    rank_sum = {f: 0.0 for f in frameworks}
    norm: dict[str, dict[str, list[float]]] = {f: {} for f in frameworks}  # framework -> task -> scores
    for ds in complete:
        row = {f: by_framework[f][ds] for f in frameworks}
        task = next(d for d in row.values() if d).get("task", "?")
        for f, r in ranks(row).items():
            rank_sum[f] += r
        for f, v in normalised(row).items():
            norm[f].setdefault(task, []).append(v)
    tasks = sorted({t for per in norm.values() for t in per})

    def mean_norm(f, task=None):
        vals = [v for t, vs in norm[f].items() if task in (None, t) for v in vs]
        return fmt_num(sum(vals) / len(vals), 2) if vals else "–"

    header = ["framework", "mean rank", "mean normalised score",
              *[f"normalised: {t}" for t in tasks], "ok", "failures", "over budget", "median fit/budget",
              "median rows/s", "median / max peak MB", "median artifact MB"]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for f in frameworks:
        cells = by_framework[f]
        ok = [d for d in cells.values() if _ok(d)]
        peaks = [d.get("peak_rss_mb") for d in cells.values() if d.get("peak_rss_mb")]
        lines.append("| " + " | ".join([
            f, fmt_num(rank_sum[f] / len(complete), 2) if complete else "–",
            mean_norm(f), *[mean_norm(f, t) for t in tasks], str(len(ok)), str(len(cells) - len(ok)), str(sum(_over_budget(d) for d in cells.values())),
            fmt_num(_median([d.get("fit_budget_ratio") for d in ok]), 2),
            fmt_rate(_median([d.get("predict_rows_per_s") for d in ok])),
            f"{fmt_num(_median(peaks), 0)} / {fmt_num(max(peaks) if peaks else None, 0)}",
            fmt_num(_median([d["artifact_bytes"] / 2**20 for d in ok if d.get("artifact_bytes")]), 2),
        ]) + " |")
    lines.append("")
    lines.append(f"Mean rank over the {len(complete)} datasets every framework ran "
                 "(1 = best; a failure ranks last). Normalised score per dataset: 1 = the best "
                 "framework, 0 = the worst (a failure scores 0). Over budget = fit > budget × 1.1 + 5 s "
                 "or killed.")
    if missing:
        lines.append(f"Not in the ranks (some framework has no cell yet): {', '.join(missing)}.")
    lines.append("")

    # main vs each other framework
    if main in by_framework:
        for other in others:
            both = [ds for ds in datasets if ds in by_framework[main] and ds in by_framework[other]]
            results = [compare(by_framework[main][ds], by_framework[other][ds]) for ds in both]
            w, t, l = (sum(r > 0 for r in results), sum(r == 0 for r in results),
                       sum(r < 0 for r in results))
            lines.append(f"- **{main} vs {other}**: {w} wins / {t} ties / {l} losses "
                         f"over {len(both)} datasets (tie = within 0.1% relative); "
                         f"wins + half the ties: {100 * (w + t / 2) / max(len(both), 1):.0f}%.")
            if other in resource_anchors:
                lines += resource_lines(main, other, resources_vs(by_framework[main],
                                                                  by_framework[other]))
            if other == reference and both:
                lines.append(f"- {main} beats the {reference} on **{w}/{len(both)} = "
                             f"{100 * w / len(both):.0f}%** of datasets.")
                losses = []
                for ds in both:
                    a, b = by_framework[main][ds], by_framework[other][ds]
                    if _ok(a) and _ok(b):
                        rel = relative_loss(a["primary"]["value"], b["primary"]["value"],
                                            a["primary"]["greater_is_better"])
                        losses.append((rel, ds, a, b))
                worst = max(losses, default=None, key=lambda x: x[0])
                if worst is None:
                    lines.append(f"- Worst relative loss vs the {reference}: – (no dataset where "
                                 "both scored).")
                elif worst[0] <= 0:
                    lines.append(f"- Worst relative loss vs the {reference}: none ({main} is at "
                                 f"least as good on every dataset both scored).")
                else:
                    rel, ds, a, b = worst
                    lines.append(f"- Worst relative loss vs the {reference}: **{ds}**, "
                                 f"{a['primary']['name']} {fmt_value(a['primary']['value'])} vs "
                                 f"{fmt_value(b['primary']['value'])} ({100 * rel:+.1f}%).")
                failed_main = [ds for ds in both if not _ok(by_framework[main][ds])
                               and _ok(by_framework[other][ds])]
                if failed_main:
                    lines.append(f"- {main} failed where the {reference} scored: "
                                 f"{', '.join(failed_main)}.")
    over = {f: [ds for ds, d in by_framework[f].items() if _over_budget(d)] for f in frameworks}
    lines.append("- Fits over budget × 1.1 + 5 s: " + "; ".join(
        f"{f} {len(v)}" + (f" ({', '.join(v)})" if v else "") for f, v in over.items()) + ".")

    # failures and reload problems
    failures = [(f, ds, d) for f in frameworks for ds, d in sorted(by_framework[f].items())
                if not _ok(d)]
    if failures:
        lines.append("- Failures:")
        for f, ds, d in failures:
            stage = f" at {d['stage']}" if d.get("stage") and d.get("status") == "error" else ""
            lines.append(f"  - {f} / {ds}: {d.get('status')}{stage}: {_short(d.get('error'))}")
    else:
        lines.append("- Failures: none.")
    reload_issues = [(f, ds, d) for f in frameworks for ds, d in sorted(by_framework[f].items())
                     if d.get("reload_error") or (d.get("reload_max_abs_diff") or 0) > 1e-6]
    for f, ds, d in reload_issues:
        what = d.get("reload_error") or f"predictions differ after reload by {d['reload_max_abs_diff']:.3g}"
        lines.append(f"- Reload problem: {f} / {ds}: {_short(what)}")
    return "\n".join(lines)


# ---------------------------------------------------------------- the document

def reproduce_block(cells: dict, results_dir: Path, output: Path) -> str:
    commands = []
    for label in sorted(cells, key=_budget_key):
        for by_dataset in cells[label].values():
            for doc in by_dataset.values():
                cmd = doc.get("command")
                if cmd and cmd not in commands:
                    commands.append(cmd)
    if not commands:
        commands = ["python benchmarks/run.py --budget 60"]
    report = ["python", "benchmarks/report.py"]
    if results_dir.resolve() != (BENCH_DIR / "results").resolve():
        report += ["--results-dir", _display(results_dir)]
    if output.resolve() != (REPO_ROOT / "docs" / "benchmarks.md").resolve():
        report += ["--output", _display(output)]
    body = ["Reproduce (from the repository root, in its virtual environment; finished cells are "
            "skipped, so an interrupted run resumes):", "", "```sh",
            *commands, " ".join(report), "```"]
    return "\n".join(body)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def replace_block(text: str, name: str, body: str, *, top: bool = False) -> str:
    start, end = f"<!-- {name} -->", f"<!-- /{name} -->"
    block = f"{start}\n{body}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: block, text, count=1)
    if top:  # right after the first heading
        lines = text.split("\n")
        at = next((i + 1 for i, line in enumerate(lines) if line.startswith("# ")), 0)
        return "\n".join(lines[:at] + ["", block] + lines[at:])
    return text.rstrip("\n") + "\n\n" + block + "\n"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results-dir", type=Path, default=BENCH_DIR / "results")
    p.add_argument("--output", type=Path, default=REPO_ROOT / "docs" / "benchmarks.md")
    p.add_argument("--budgets", default=None, help="comma-separated budgets (default: all found)")
    p.add_argument("--main", default="mlexpert", help="framework compared with the others")
    p.add_argument("--reference", default="baseline", help="the baseline framework")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    cells = load_cells(args.results_dir)
    if args.budgets:
        wanted = {label for label in cells
                  if any(_budget_key(label) == float(b) for b in args.budgets.split(","))}
        cells = {k: v for k, v in cells.items() if k in wanted}
    text = args.output.read_text() if args.output.exists() else INTRO
    text = replace_block(text, "reproduce", reproduce_block(cells, args.results_dir, args.output),
                         top=True)
    if not cells:
        print(f"no results under {args.results_dir}; wrote only the introduction", file=sys.stderr)
    for label in sorted(cells, key=_budget_key):
        body = budget_block(label, cells[label], args.main, args.reference)
        text = replace_block(text, f"results:{label}", body)
        n = sum(len(v) for v in cells[label].values())
        print(f"budget {label}: {n} cells -> {args.output}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
