"""Data audit: quality, leakage and train/serve skew, each finding with evidence and an action."""

from .findings import AuditReport, Finding
from .runner import audit, audit_table

__all__ = ["AuditReport", "Finding", "audit", "audit_table"]
