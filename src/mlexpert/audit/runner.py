"""Run every audit check on a table (and optionally a new/test table)."""

from __future__ import annotations

import time
import warnings

import pandas as pd

from ..data.ingest import read_table
from ..data.schema import FEATURE_KINDS, Schema, infer_schema
from ..data.validate import prepare_training_table
from ..exceptions import DataWarning
from ..task import Task, infer_task
from .columns import check_columns
from .distribution import check_imbalance, check_outliers
from .findings import AuditReport, Finding, merge_findings
from .leakage import check_leakage
from .rows import check_rows
from .skew import check_skew


def audit(data=None, *, target: str, test=None, task: str | None = None, sql: str | None = None,
          db: str | None = None, seed: int = 0, time_limit: float | None = None,
          keep: tuple[str, ...] = ()) -> AuditReport:
    """Audit a training table for ``target``: a path, DataFrame, pyarrow Table or SQL query.

    ``test`` (same kinds of input) adds train/serve skew checks. ``time_limit`` (seconds)
    bounds the leakage check, the only costly one.
    """
    start = time.monotonic()
    raw = read_table(data, sql=sql, db=db)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        df = prepare_training_table(raw, target)
        schema = infer_schema(df, target, keep=tuple(keep))
    task_ = infer_task(df[target], task)
    new = read_table(test) if test is not None else None
    deadline = start + time_limit if time_limit else None
    report = audit_table(df, schema, task_, seed=seed, deadline=deadline, new=new)
    dropped = len(raw) - len(df)
    extra = [Finding(
        "missing_target", "warning", f"{dropped} rows have no value for the target {target!r}.",
        "Dropped from training; predict them with the finished model if needed.", (target,),
        {"rows": dropped})] if dropped else []
    return AuditReport(extra + report.findings, len(raw), report.n_columns, target, task_.kind,
                       time.monotonic() - start, report.notes)


def audit_table(df: pd.DataFrame, schema: Schema, task: Task, *, seed: int = 0,
                deadline: float | None = None, new: pd.DataFrame | None = None) -> AuditReport:
    """The checks on an already validated table (as :func:`mlexpert.fit` has it)."""
    start = time.monotonic()
    target = schema.target
    findings = check_columns(df, schema)
    findings += check_rows(df, target, schema.features, not task.is_classification)
    findings += check_outliers(df, schema.names("numeric"))
    if task.is_classification:
        findings += check_imbalance(df[target])
    kinds = {c.name: c.kind for c in schema.columns if c.kind in FEATURE_KINDS}
    leaks, notes = check_leakage(df, kinds, task.encode(df[target]), task.kind, target,
                                 seed=seed, deadline=deadline, classes=task.classes)
    findings += leaks
    if new is not None:
        findings += check_skew(df, new, kinds)
    return AuditReport(merge_findings(findings), len(df), len(df.columns), target, task.kind,
                       time.monotonic() - start, notes)
