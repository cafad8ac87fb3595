"""High-level entry points: :func:`fit` and :func:`load`."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import platform
import time
import warnings
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .artifacts import load_bundle, pickled_size
from .audit import audit_table
from .audit.actions import apply_audit
from .config import FitConfig
from .data.ingest import read_table
from .data.schema import Schema, infer_schema
from .data.validate import prepare_training_table
from .ensemble.latency import enforce_cap, measure_candidates, pipeline_latency_ms
from .ensemble.selection import blend_oof, select_ensemble
from .evaluation.final import check_test_table, evaluate_final, fairness_section
from .evaluation.threshold import check_threshold_metric
from .evaluation.leaderboard import make_leaderboard
from .evaluation.metrics import Metric, get_metric
from .exceptions import InvalidParameterError, MLExpertWarning, NoModelTrainedError
from .models.registry import get_family, resolve_families
from .predictor import FittedPipeline, Member
from .result import FitResult
from .review import REPORT_SECONDS, REVIEW_MAX, review_fit, review_seconds
from .search.cv import make_folds
from .search.refit import first_trial_share, refit_members, reserve_seconds
from .search.searcher import FIRST_SHARE, KEEP_TOP, Search, SearchEvent
from .search.workspace import Workspace
from .task import infer_task

SEARCH_SHARE = 0.93  # of the budget for trials (less the time held back for refits)
ENSEMBLE_SHARE = 0.98  # ensemble selection stops iterating past this share of the budget
REFIT_SHARE = 0.96  # refits end by this share; then latency, size, evaluation and the review
REFIT_FLOOR = 0.02  # of the budget always left between ensemble selection and the refit deadline
REVIEW_SHARE = 0.99  # the review (diagnosis, importance) ends by this share of the budget,
                     # less the time the report takes; the search holds back what it needs
AUDIT_SHARE = 0.05  # the data audit's leakage check stops after this share of the budget
KINDS = ("numeric", "boolean", "categorical", "high_cardinality", "datetime", "text")
LIBRARIES = ("numpy", "pandas", "scikit-learn", "lightgbm", "xgboost", "catboost", "optuna", "torch")


def fit(data=None, *, target: str, sql: str | None = None, db: str | None = None,
        task: str | None = None, metric: str | None = None, time_limit: float | str = 60,
        seed: int = 0, n_jobs: int = -1, families: tuple[str, ...] | None = None,
        max_trials: int | None = None, n_folds: int = 5, holdout_rows: int = 100_000,
        groups: str | None = None, time_column: str | None = None, refit: bool = True,
        max_latency_ms: float | None = None, test=None,
        optimize_threshold: str | None = None, sensitive: tuple[str, ...] = (),
        review: bool = True, ignore: tuple[str, ...] = (),
        categorical: tuple[str, ...] = (), text: tuple[str, ...] = (),
        datetime: tuple[str, ...] = (), keep: tuple[str, ...] = (),
        out: str | os.PathLike | None = None,
        on_event: Callable[[SearchEvent], None] | None = None) -> FitResult:
    """Train, validate and ensemble models for ``target`` within ``time_limit``.

    Parameters
    ----------
    data : path, pandas.DataFrame or pyarrow.Table, optional
        The training table (.csv/.tsv[.gz], .parquet, .json/.jsonl), or None with ``sql``.
    target : str
        Column to predict. Rows where it is missing are dropped (with a warning).
    sql, db : str, optional
        A query, run by DuckDB (in memory, or the ``db`` .duckdb file) or by the
        SQLAlchemy URL ``db`` (e.g. ``postgresql://user@host/db``).
    task : {"binary", "multiclass", "regression"}, optional
        Inferred from the target when None.
    metric : str, optional
        Defaults: roc_auc (binary), log_loss (multiclass), rmse (regression).
    time_limit : float or str
        Budget for the whole fit, in seconds or as ``"5m"``, ``"1h"``.
    seed : int
        Same seed, data and machine give the same trials, leaderboard and predictions
        (as long as no trial is cut short by the clock; use ``max_trials`` to be sure).
    n_jobs : int
        Threads; -1 uses every core. Each trial uses them all, trials run in turn.
    families : tuple of str, optional
        Restrict the model families (lightgbm, catboost, xgboost, linear, extra_trees,
        random_forest, mlp, knn).
    max_trials : int, optional
        Stop after this many trials even if time is left.
    groups, time_column : str, optional
        Group-aware folds (rows of a group stay together) or time-ordered folds.
    refit : bool
        Refit the ensemble's members on all rows when time allows (the default), or keep
        and average their fold models. See :mod:`mlexpert.predictor`.
    test : path, pandas.DataFrame or pyarrow.Table, optional
        A labelled test table: the final model is scored on it (metrics with bootstrap
        intervals in ``result.manifest["evaluation"]["test"]``) and the data audit checks
        it for train/serve skew.
    max_latency_ms : float, optional
        Cap on the time to predict one row (input checks, preprocessing and every
        member): the best ensemble under the cap is kept, measured on this machine. The
        measured latency is in ``result.manifest["latency"]`` either way.
    optimize_threshold : {"f1", "accuracy", "balanced_accuracy", "mcc"}, optional
        Binary only: choose the decision threshold on P(second class) that maximises this
        metric on the out-of-fold outputs (``predict`` uses it; 0.5 otherwise). Recorded in
        ``result.manifest["threshold"]``.
    sensitive : tuple of str
        Columns to check the model's fairness by (metrics by group, gaps flagged), in
        ``result.manifest["fairness"]``. They stay features unless also in ``ignore``.
    review : bool
        Run the expert review (learning-curve diagnosis, permutation importance, tree SHAP,
        partial dependence) in the last few percent of the budget (the default).
    ignore, categorical, text, datetime, keep : tuple of str
        Column overrides: drop, or force a kind, or keep a column mlexpert would drop.
    out : path, optional
        Save the model directory there.
    on_event : callable, optional
        Called with a :class:`~mlexpert.search.searcher.SearchEvent` after every trial.
    """
    start = time.monotonic()
    config = FitConfig.build(
        target=target, task=task, metric=metric, time_limit=time_limit, seed=seed, n_jobs=n_jobs,
        families=families, max_trials=max_trials, n_folds=n_folds, holdout_rows=holdout_rows,
        groups=groups, time_column=time_column, refit=refit, max_latency_ms=max_latency_ms,
        optimize_threshold=optimize_threshold, sensitive=sensitive, review=review,
        ignore=ignore, categorical=categorical, text=text, datetime=datetime, keep=keep,
    )
    family_keys = resolve_families(config.families)
    notices: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MLExpertWarning)
        df = prepare_training_table(read_table(data, sql=sql, db=db), config.target)
        schema = _schema(df, config)
        task_ = infer_task(df[config.target], config.task)
        threshold_metric = check_threshold_metric(config.optimize_threshold, task_.kind)
        _check_columns(df, config.sensitive, "sensitive")
        chosen = _families(family_keys, task_.kind, len(df))
    notices += [str(w.message) for w in caught if issubclass(w.category, MLExpertWarning)]
    notices += chosen[1]
    test_df = read_table(test) if test is not None else None
    report = audit_table(df, schema, task_, seed=config.seed, new=test_df,
                         deadline=time.monotonic() + AUDIT_SHARE * config.time_limit)
    notices += apply_audit(schema, report, keep=config.keep)
    if test_df is not None:
        check_test_table(test_df, schema)
    metric_ = get_metric(config.metric, task_.kind)
    ws = _workspace(df, schema, task_, config)
    budget = config.time_limit

    def reviewing(best):
        return review_seconds(best, budget) if config.review else 0.0

    def reserve(best):
        return ((reserve_seconds(best, ws, budget, config.n_jobs) if config.refit else 0.0)
                + reviewing(best))

    search = Search(ws, chosen[0], metric_, deadline=start + SEARCH_SHARE * budget,
                    n_threads=config.n_jobs, seed=config.seed, max_trials=config.max_trials,
                    on_event=on_event, reserve=reserve,
                    first_share=first_trial_share(ws, config.n_jobs, FIRST_SHARE) if config.refit
                    else FIRST_SHARE)
    results = search.run()
    # ensemble selection stops early enough to leave the refits their time: the best
    # trial's expected refit, and never less than REFIT_FLOOR of the budget (cheap members)
    # (and the review its own, held back from every step after the search)
    held = reviewing(search.best)
    select_until = min(start + ENSEMBLE_SHARE * budget - held,
                       start + (REFIT_SHARE - REFIT_FLOOR) * budget - reserve(search.best))
    latency = None
    if config.max_latency_ms is not None:
        latency = measure_candidates(sorted((r for r in results if r.status == "ok"),
                                            key=lambda r: r.loss)[:KEEP_TOP], ws, schema,
                                     refit=config.refit, deadline=select_until - 0.01 * budget)
    kept, ensemble, capped = select_ensemble(results, ws, metric_, config.seed,
                                             deadline=max(time.monotonic() + 0.02 * budget, select_until),
                                             latency=latency, cap_ms=config.max_latency_ms)
    notices += capped
    refits = _refit(kept, ws, config, ensemble, deadline=start + REFIT_SHARE * budget - held)
    pipeline = _pipeline(kept, refits, ws, schema, task_, metric_)
    notices += _measure_latency(pipeline, kept, ws, metric_, ensemble, config.max_latency_ms)
    evaluation, scored, evaluated = evaluate_final(pipeline, kept, ws, task_, target=config.target,
                                                   test=test_df, seed=config.seed,
                                                   optimize_threshold=threshold_metric)
    ensemble["size_mb"] = {m.name: round(pickled_size(m.models) / 1e6, 3) for m in pipeline.members}
    if latency is not None:
        ensemble["member_latency_ms"] = {n: round(latency.estimate([n]), 3) for n in latency.member_ms}
    weights = ensemble["weights"]
    leaderboard = make_leaderboard(results, weights, ensemble)
    manifest = _manifest(config, df, schema, task_, metric_, ws, results, ensemble, start)
    manifest["audit"] = report.to_dict()
    manifest["evaluation"] = evaluation
    notices += scored
    if pipeline.threshold is not None:
        manifest["threshold"] = {**evaluation.pop("threshold"),
                                 "positive_class": task_.to_dict()["classes"][1]}
    if config.review:
        manifest.update(_guarded("review", notices, lambda: review_fit(
            pipeline, kept, results, ws, metric_, n_threads=config.n_jobs, seed=config.seed,
            deadline=min(start + REVIEW_SHARE * budget - REPORT_SECONDS,
                         time.monotonic() + REVIEW_MAX * budget))))
    if config.sensitive:
        manifest.update(_guarded("fairness", notices, lambda: {"fairness": fairness_section(
            df, config.sensitive, evaluated, task_, pipeline.threshold, test_df)}))
    reference = _guarded("reference profile", notices, lambda: {"profile": reference_profile(
        df, schema, task_, evaluated)}).get("profile")
    ws.release()
    pipeline.info = {"cv_strategy": ws.folds.strategy, "notices": notices}
    result = FitResult(pipeline, leaderboard, manifest, notices, reference=reference)
    if out is not None:
        result.save(out)
    result.manifest["budget"]["total_s"] = round(time.monotonic() - start, 3)
    return result


def load(directory: str | os.PathLike) -> FitResult:
    """Load a model directory saved by :func:`fit` (checksums and format are verified)."""
    pipeline, manifest, leaderboard = load_bundle(directory)
    return FitResult(pipeline, leaderboard, manifest, list(pipeline.info.get("notices", [])),
                     path=Path(directory))


def _guarded(what: str, notices: list[str], step: Callable[[], dict]) -> dict:
    """Run a review step; a failure costs that section, never the trained model."""
    try:
        return step()
    except Exception as exc:
        notices.append(f"The {what} step failed and is left out of the report "
                       f"({type(exc).__name__}: {str(exc)[:200]}); the model is unaffected.")
        return {}


def _check_columns(df: pd.DataFrame, names, option: str) -> None:
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise InvalidParameterError(
            f"--{option} names column(s) {missing} that are not in the data. Use column names "
            f"from: {', '.join(map(str, df.columns[:20]))}."
        )


def _schema(df: pd.DataFrame, config: FitConfig) -> Schema:
    ignore = tuple(config.ignore) + tuple(c for c in (config.groups,) if c)
    for name, option in ((config.groups, "groups"), (config.time_column, "time-column")):
        if name is not None and name not in df.columns:
            raise InvalidParameterError(
                f"--{option} names column {name!r}, which is not in the data."
            )
    return infer_schema(df, config.target, ignore=ignore, categorical=config.categorical,
                        text=config.text, datetime=config.datetime, keep=config.keep)


def _families(keys: list[str], task: str, n_rows: int):
    """Instantiate usable families; say why the others are skipped."""
    chosen, notices = [], []
    for key in keys:
        family = get_family(key)
        missing = family.missing_requirements()
        if missing:
            hint = f"pip install 'mlexpert[{family.extra}]'" if family.extra else f"pip install {' '.join(missing)}"
            notices.append(f"Skipped {family.name}: {', '.join(missing)} is not installed ({hint}).")
        elif not family.supports(task, n_rows):
            notices.append(f"Skipped {family.name}: not suited to {task} with {n_rows} rows.")
        else:
            chosen.append(family)
    if not chosen:
        raise NoModelTrainedError(
            "No model family can be used here: " + " ".join(notices) + " Install the missing "
            "libraries or choose other --families."
        )
    return chosen, notices


def _workspace(df: pd.DataFrame, schema: Schema, task, config: FitConfig) -> Workspace:
    y = task.encode(df[config.target])
    groups = df[config.groups].astype(str).to_numpy() if config.groups else None
    times = None
    if config.time_column:
        from .features.datetime import to_datetime

        col = df[config.time_column]
        times = col.to_numpy() if pd.api.types.is_numeric_dtype(col) else to_datetime(col).to_numpy()
    columns = {kind: schema.names(kind) for kind in KINDS}
    folds = make_folds(y, classification=task.is_classification, n_folds=config.n_folds,
                       seed=config.seed, n_features=len(schema.features),
                       holdout_rows=config.holdout_rows, groups=groups, times=times)
    return Workspace(df[schema.features], y, task.kind, task.n_classes, columns, folds, config.seed)


def _measure_latency(pipeline: FittedPipeline, kept, ws: Workspace, metric: Metric,
                     ensemble: dict, cap_ms: float | None) -> list[str]:
    """Time the final model on one row; under a cap, drop members until it is met."""
    row = ws.X.iloc[:1]
    if cap_ms is None:
        ensemble["latency_ms"] = round(pipeline_latency_ms(pipeline, row), 3)
        return []
    latency, dropped = enforce_cap(pipeline, row, cap_ms)
    ensemble["latency_ms"], ensemble["latency_cap_ms"] = round(latency, 3), cap_ms
    if dropped:
        ensemble["latency_dropped"] = dropped
        weights = {m.name: m.weight for m in pipeline.members}
        mask = ws.folds.validated
        ensemble["loss"] = metric.loss(ws.y[mask], blend_oof(kept, weights, mask))
        ensemble["score"] = -ensemble["loss"] if metric.greater_is_better else ensemble["loss"]
        ensemble["weights"] = weights
        for name in dropped:
            ensemble["refit"].pop(name, None)
            ensemble["refit_skipped"].pop(name, None)
    if latency > cap_ms:
        return [f"The final model takes {latency:.1f} ms per row, above --max-latency-ms "
                f"{cap_ms:g}, even with one member: no faster model was found in time."]
    return [f"Dropped {len(dropped)} ensemble member(s) to meet --max-latency-ms {cap_ms:g}: "
            f"{', '.join(dropped)}."] if dropped else []


def _refit(kept, ws: Workspace, config: FitConfig, ensemble: dict, deadline: float) -> dict:
    """Refit the kept members on all rows (unless disabled); record what happened."""
    refits, skipped = {}, {r.name: "refit disabled" for r, _ in kept}
    if config.refit:
        t0 = time.monotonic()
        refits, skipped = refit_members([r for r, _ in kept], ws, n_threads=config.n_jobs,
                                        seed=config.seed, deadline=deadline)
        ensemble["refit_time"] = round(time.monotonic() - t0, 3)
    ensemble["refit"] = {r.name: r.name in refits for r, _ in kept}
    ensemble["refit_skipped"] = skipped
    return refits


def _pipeline(kept, refits, ws: Workspace, schema, task, metric: Metric) -> FittedPipeline:
    """The final model: refit members use all-row preprocessors, the others their folds'."""
    members = []
    for r, w in kept:
        refit = r.name in refits
        if not refit:  # read from disk once; the review then shares these objects, no copies
            r.models = list(r.models)
        members.append(Member(r.name, r.family, w, [refits[r.name]] if refit else r.models,
                              refit=refit))
    fold_profiles = sorted({get_family(m.family).profile for m in members if not m.refit})
    full_profiles = sorted({get_family(m.family).profile for m in members if m.refit})
    pipeline = FittedPipeline(schema, task, metric.name, {p: ws.preprocessors(p) for p in fold_profiles},
                              members, full_preprocessors={p: ws.full_preprocessor(p) for p in full_profiles})
    return pipeline


def reference_profile(df: pd.DataFrame, schema: Schema, task, evaluated: dict) -> dict:
    """What monitoring compares live traffic with (saved as reference.json): the training
    columns' distributions, and the out-of-fold predictions' distribution."""
    from .monitoring.profile import build_profile

    _, output, rows = evaluated["cross_validation"]
    rows = np.flatnonzero(rows) if np.asarray(rows).dtype == bool else np.asarray(rows)
    return build_profile(df.iloc[rows].reset_index(drop=True), schema, task, output=output)


def data_fingerprint(df: pd.DataFrame) -> str:
    """A short SHA-256 of the column names and every value: which data a model learned from."""
    digest = hashlib.sha256(",".join(map(str, df.columns)).encode())
    digest.update(pd.util.hash_pandas_object(df, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:32]


def _versions() -> dict:
    found = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            found[name] = version(name if name != "xgboost" else "xgboost-cpu")
        except PackageNotFoundError:
            try:
                found[name] = version(name)
            except PackageNotFoundError:
                continue
    return found


def _manifest(config, df, schema, task, metric, ws, results, ensemble, start) -> dict:
    ok = [r for r in results if r.status == "ok"]
    best = min(ok, key=lambda r: r.loss)
    elapsed = time.monotonic() - start
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "task": task.to_dict(), "target": config.target, "metric": metric.name,
        "cv_score": ensemble["score"], "best_single": {"model": best.name, "score": best.score},
        "cv_strategy": ws.folds.strategy, "seed": config.seed, "time_limit_s": config.time_limit,
        "n_rows": int(len(df)), "n_features": len(schema.features),
        "data_fingerprint": data_fingerprint(df), "libraries": _versions(),
        "trials": {"total": len(results), "ok": len(ok),
                   "failed": sum(r.status == "failed" for r in results),
                   "timeout": sum(r.status == "timeout" for r in results)},
        "budget": {"limit_s": config.time_limit, "search_s": round(sum(r.fit_time for r in results), 3),
                   "ensemble_s": ensemble["fit_time"], "refit_s": ensemble.get("refit_time", 0.0),
                   "elapsed_before_save_s": round(elapsed, 3)},
        "refit": ensemble["refit"], "refit_skipped": ensemble["refit_skipped"],
        "latency": {k: ensemble[k] for k in ("latency_ms", "latency_estimate_ms", "latency_cap_ms",
                                              "latency_dropped") if k in ensemble},
        "model_size_mb": round(sum(ensemble["size_mb"].values()), 3),
        "settings": settings_of(config),
    }


def settings_of(config: FitConfig) -> dict:
    """The fit settings a retrain repeats (everything but the machine-specific thread count)."""
    settings = dataclasses.asdict(config)
    settings.pop("n_jobs")
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}
