"""``mlexpert fit``: train a model from a table and save it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from ._display import SearchDisplay, console, leaderboard_table
from ._errors import err_console, handle_errors, split_names


def fit_command(
    data: Annotated[Optional[Path], typer.Argument(
        help="Training table: .csv/.tsv (also .gz), .parquet, .json or .jsonl. Omit with --sql.",
        show_default=False)] = None,
    target: Annotated[str, typer.Option("--target", "-t", help="Column to predict.")] = ...,
    out: Annotated[Path, typer.Option("--out", "-o", help="Model directory to write.")] = Path("mlexpert-model"),
    time: Annotated[str, typer.Option("--time", help="Time budget for the whole fit: 60, 90s, 5m, 1h.")] = "60",
    task: Annotated[Optional[str], typer.Option(help="binary, multiclass or regression (inferred if omitted).")] = None,
    metric: Annotated[Optional[str], typer.Option(help="accuracy, balanced_accuracy, f1, precision, recall, roc_auc, log_loss, rmse, mae, r2, mape.")] = None,
    sql: Annotated[Optional[str], typer.Option(help="Read the training rows with this SQL query.")] = None,
    db: Annotated[Optional[str], typer.Option(help="Database for --sql: a .duckdb file or a SQLAlchemy URL (default: in-memory DuckDB, which can query files).")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed and data give the same result.")] = 0,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Threads to use; -1 = all cores.")] = -1,
    families: Annotated[Optional[list[str]], typer.Option(help="Only these model families (comma-separated): lightgbm, catboost, xgboost, linear, extra_trees, random_forest, mlp, knn.")] = None,
    max_trials: Annotated[Optional[int], typer.Option(help="Stop after this many trials.")] = None,
    folds: Annotated[int, typer.Option(help="Number of cross-validation folds.")] = 5,
    groups: Annotated[Optional[str], typer.Option(help="Column of groups kept together in folds.")] = None,
    time_column: Annotated[Optional[str], typer.Option(help="Column giving time order: validate on later rows.")] = None,
    refit: Annotated[bool, typer.Option("--refit/--no-refit", help="Refit the final models on all rows when time allows, or keep and average the fold models.")] = True,
    test: Annotated[Optional[Path], typer.Option(help="A labelled test table: score the final model on it (with 95% intervals) and check it for train/serve skew.")] = None,
    max_latency_ms: Annotated[Optional[float], typer.Option("--max-latency-ms", help="Keep the best ensemble that predicts one row within this many milliseconds (measured).")] = None,
    optimize_threshold: Annotated[Optional[str], typer.Option(help="Binary: tune the decision threshold for this metric (f1, accuracy, balanced_accuracy, mcc) on out-of-fold predictions.")] = None,
    sensitive: Annotated[Optional[list[str]], typer.Option(help="Columns to check fairness by (comma-separated): metrics by group, gaps flagged in the report.")] = None,
    review: Annotated[bool, typer.Option("--review/--no-review", help="Diagnose over/underfitting and explain the model (learning curve, importance, SHAP, partial dependence) in the last few % of the budget.")] = True,
    ignore: Annotated[Optional[list[str]], typer.Option(help="Columns to leave out.")] = None,
    categorical: Annotated[Optional[list[str]], typer.Option(help="Columns to treat as categories.")] = None,
    text: Annotated[Optional[list[str]], typer.Option(help="Columns to treat as free text.")] = None,
    datetime: Annotated[Optional[list[str]], typer.Option(help="Columns to parse as dates/times.")] = None,
    keep: Annotated[Optional[list[str]], typer.Option(help="Columns to keep although they look like IDs or constants.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only errors and the final line.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail, and tracebacks on errors.")] = False,
) -> None:
    """Train, cross-validate, tune and ensemble models for TARGET, then save them to --out."""
    from .. import api
    from ..utils._duration import parse_duration

    with handle_errors(verbose):
        budget = parse_duration(time, name="time")
        live = not quiet and console.is_terminal
        with SearchDisplay(budget, enabled=live, verbose=verbose and not quiet) as display:
            result = api.fit(
                data, target=target, sql=sql, db=db, task=task, metric=metric, time_limit=budget,
                seed=seed, n_jobs=jobs, families=split_names(families) or None,
                max_trials=max_trials, n_folds=folds, groups=groups, time_column=time_column,
                refit=refit, max_latency_ms=max_latency_ms, test=test,
                optimize_threshold=optimize_threshold, sensitive=split_names(sensitive),
                review=review, ignore=split_names(ignore), categorical=split_names(categorical),
                text=split_names(text), datetime=split_names(datetime), keep=split_names(keep),
                out=out, on_event=display.on_event,
            )
        _report(result, out, quiet)


def _report(result, out: Path, quiet: bool) -> None:
    m = result.manifest
    if not quiet:
        for note in result.notices:
            err_console.print(f"[yellow]note:[/] {note}")
        console.print(leaderboard_table(result.leaderboard, result.metric))
        b = m["budget"]
        console.print(
            f"Budget: {b['limit_s']:.0f}s; trials {b['search_s']:.1f}s, ensemble {b['ensemble_s']:.1f}s, "
            f"refits {b.get('refit_s', 0.0):.1f}s ({sum(m.get('refit', {}).values())} of "
            f"{len(m.get('refit', {}))} members on all rows), "
            f"total {b['total_s']:.1f}s. Trials: {m['trials']['ok']} ok, {m['trials']['failed']} failed, "
            f"{m['trials']['timeout']} stopped by the clock."
        )
    test = m.get("evaluation", {}).get("test")
    if test is not None:
        metric = test["metrics"].get(m["metric"]) or next(iter(test["metrics"].values()))
        name = m["metric"] if m["metric"] in test["metrics"] else next(iter(test["metrics"]))
        interval = (f" (95% interval {metric['ci_low']:.4f} to {metric['ci_high']:.4f})"
                    if "ci_low" in metric else "")
        console.print(f"Test: {name} {metric['value']:.4f}{interval} on {test['n_rows']} rows.")
    if not quiet:
        _review_lines(m)
    latency = m.get("latency", {})
    speed = (f", {latency['latency_ms']:.1f} ms per row" if "latency_ms" in latency else "")
    if "latency_cap_ms" in latency:
        speed += f" (cap {latency['latency_cap_ms']:g} ms)"
    console.print(
        f"Saved model to {out} — {m['task']['kind']}, {m['metric']} {m['cv_score']:.4f} "
        f"({m['cv_strategy']}, {m['n_rows']} rows){speed}."
    )


def _review_lines(m: dict) -> None:
    """One line each for the threshold, the diagnosis and fairness flags."""
    if "threshold" in m:
        t = m["threshold"]
        console.print(f"Threshold: {t['threshold']:.3f} for {t['metric']} "
                      f"({t['default'][t['metric']]:.4f} at 0.5 -> {t['tuned'][t['metric']]:.4f}, out of fold).")
    diagnosis = m.get("diagnosis")
    if diagnosis:
        console.print(f"Diagnosis ({diagnosis['verdict'].replace('_', ' ')}): {diagnosis['headline']}")
    for column in m.get("fairness", {}).get("flagged", []):
        finding = m["fairness"]["columns"][column]["findings"][0]
        console.print(f"[yellow]Fairness:[/] {finding}")
