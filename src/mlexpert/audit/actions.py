"""What ``fit`` does with an audit: drop clear leaks, and tell the user what matters."""

from __future__ import annotations

from ..data.schema import Schema
from .findings import AuditReport

# checks worth a notice during fit (identifiers and constant columns are announced by the
# schema already; missing values and outliers are handled and stay in the audit)
NOTIFY = ("target_leakage", "duplicate_rows", "conflicting_duplicates", "class_imbalance",
          "missing_columns", "train_serve_skew", "shared_rows")


def apply_audit(schema: Schema, report: AuditReport, keep: tuple[str, ...] = ()) -> list[str]:
    """Mark critical target leaks as dropped in ``schema`` (unless kept); return notices.

    A leak is a column or two among many: when more than half of the columns (or every
    column) would go, nothing is dropped and the user is told why.
    """
    notices = []
    leaks = set(report.leaking_columns("critical")) - set(keep)
    n_features = len(schema.features)
    if len(leaks) > max(1, n_features // 2):  # e.g. separable blobs: easy, not leaky
        notices.append(
            f"Audit: {len(leaks)} of {n_features} columns each predict the target almost "
            "perfectly on their own. That looks like an easy (or deterministic) problem rather "
            "than leakage, so none was dropped; check that they are known at prediction time.")
        leaks = set()
    for info in schema.columns:
        if info.name in leaks:
            finding = next(f for f in report.by_check("target_leakage") if info.name in f.columns)
            info.kind = "leakage"
            info.reason = (f"target leakage ({finding.evidence['metric']} "
                           f"{finding.evidence['score']:.3f} from this column alone)")
    for f in report.findings:
        if f.check in NOTIFY and f.severity in ("critical", "warning"):
            notices.append(f"Audit ({f.severity}): {f.message} {f.action}")
    return notices
