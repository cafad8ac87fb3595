"""What an audit reports: findings with a severity, evidence in numbers, and an action."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

SEVERITIES = ("critical", "warning", "info")  # most serious first


@dataclass(frozen=True)
class Finding:
    """One problem (or notable fact) about the data.

    ``check`` names the rule that found it, ``evidence`` holds the numbers behind it, and
    ``action`` says what to do (or what mlexpert does about it).
    """

    check: str
    severity: str
    message: str
    action: str
    columns: tuple[str, ...] = ()
    evidence: dict = field(default_factory=dict)

    def __post_init__(self):
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {SEVERITIES}, got {self.severity!r}")

    def to_dict(self) -> dict:
        out = asdict(self)
        out["columns"] = list(self.columns)
        return out


GROUP_ABOVE = 8  # more findings than this of one check at one severity are merged into one


def merge_findings(findings: list[Finding]) -> list[Finding]:
    """One finding per (check, severity) when a check fires on many columns (e.g. hundreds of
    sparse word-count columns that are near-constant)."""
    groups: dict[tuple[str, str], list[Finding]] = {}
    for f in findings:
        groups.setdefault((f.check, f.severity), []).append(f)
    out = []
    for (check, severity), items in groups.items():
        if len(items) <= GROUP_ABOVE or not all(f.columns for f in items):
            out += items
            continue
        columns = tuple(c for f in items for c in f.columns)
        out.append(Finding(
            check, severity, f"{len(columns)} columns share this finding, e.g. {items[0].message}",
            items[0].action, columns,
            {"columns": len(columns), "examples": [f.evidence for f in items[:5]]}))
    return out


@dataclass
class AuditReport:
    """Every finding of an audit, most serious first, and what was examined."""

    findings: list[Finding]
    n_rows: int
    n_columns: int
    target: str
    task: str
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)  # checks cut short or skipped, and why

    def __post_init__(self):
        rank = {s: i for i, s in enumerate(SEVERITIES)}
        self.findings = sorted(self.findings, key=lambda f: (rank[f.severity], f.check))

    def by_check(self, check: str) -> list[Finding]:
        return [f for f in self.findings if f.check == check]

    def counts(self) -> dict[str, int]:
        return {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}

    def leaking_columns(self, severity: str = "critical") -> list[str]:
        """Columns flagged as target leakage at ``severity``."""
        return [c for f in self.findings
                if f.check == "target_leakage" and f.severity == severity for c in f.columns]

    def to_dict(self) -> dict:
        return {"target": self.target, "task": self.task, "n_rows": self.n_rows,
                "n_columns": self.n_columns, "seconds": round(self.seconds, 3),
                "counts": self.counts(), "notes": list(self.notes),
                "findings": [f.to_dict() for f in self.findings]}

    def to_markdown(self) -> str:
        c = self.counts()
        lines = [f"# Data audit: {self.target} ({self.task})", "",
                 f"{self.n_rows} rows, {self.n_columns} columns; {c['critical']} critical, "
                 f"{c['warning']} warnings, {c['info']} notes.", ""]
        for f in self.findings:
            cols = f" ({', '.join(f.columns)})" if f.columns else ""
            lines += [f"- **{f.severity}** `{f.check}`{cols}: {f.message} *Action:* {f.action}"]
        lines += [f"- note: {n}" for n in self.notes]
        return "\n".join(lines) + "\n"
