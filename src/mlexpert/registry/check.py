"""Compare the registry's rows with its folders: what is wrong, and what can be cleaned.

Rows and folders are compared under the registry's exclusive lock, so a registration in
progress is never mistaken for an orphan; checksums are verified afterwards, outside it.
Repair only removes what no committed version owns (orphan folders and dot-folder
leftovers); a missing or damaged version is reported for a person to decide.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select, text

from ..artifacts.bundle import read_manifest
from ..exceptions import ArtifactError
from ..store import model_versions as mv
from . import ledger
from .files import directory_checksum, leftovers, move_aside, remove_tree

REPAIR_HINT = "`mlexpert registry check --repair` removes it"


@dataclass(frozen=True)
class Problem:
    """One inconsistency; ``repairable`` ones are removed by ``check --repair``."""

    kind: str  # orphan | leftover | missing | damaged | stages | unexpected | store
    message: str
    path: Path | None = None
    repairable: bool = False
    repaired: bool = False

    def describe(self) -> str:
        return f"{self.message} (removed)" if self.repaired else self.message


def inspect(registry, *, repair: bool = False) -> list[Problem]:
    """Every problem of ``registry`` (see the module docstring)."""
    root = registry.root
    problems = _store_integrity(registry.store)
    with registry.store.write(exclusive=True) as conn:
        rows = ledger.version_rows(conn)
        folders, unexpected = _version_folders(root)
        registered = {(r.name, r.version) for r in rows}
        moved = []
        for (name, version), path in sorted(folders.items()):
            if (name, version) in registered:
                continue
            problems.append(Problem("orphan", f"orphan folder {name}/{version}: no registry row "
                                    f"(an interrupted registration left it); {REPAIR_HINT}",
                                    path, repairable=True, repaired=repair))
            if repair:
                moved.append(move_aside(path, root, "orphan", f"{name}-{version}"))
    for path in moved:
        remove_tree(path)
    for path in leftovers(root):
        problems.append(Problem("leftover", f"leftover folder {path.name}: temporary copy no "
                                f"running process owns; {REPAIR_HINT}", path, repairable=True,
                                repaired=repair))
        if repair:
            remove_tree(path)
    problems += [Problem("unexpected", f"unexpected entry {p.relative_to(root)}: not a version "
                         "folder of the registry (left alone)", p) for p in unexpected]
    problems += _stage_problems(rows)
    problems += _verify(registry, rows)
    return problems


def _store_integrity(store) -> list[Problem]:
    if not store.is_sqlite:
        return []  # PostgreSQL checks its own pages; nothing cheap to ask here
    with store.read() as conn:
        result = [r[0] for r in conn.execute(text("PRAGMA quick_check"))]
    if result == ["ok"]:
        return []
    return [Problem("store", "the SQLite store failed its integrity check: "
                    f"{'; '.join(map(str, result[:3]))}. Restore it from a backup.")]


def _version_folders(root: Path) -> tuple[dict[tuple[str, int], Path], list[Path]]:
    """``ROOT/NAME/N`` folders by (name, version), and entries that are neither."""
    folders, unexpected = {}, []
    if not root.is_dir():
        return folders, unexpected
    for name_dir in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for entry in sorted(name_dir.iterdir()):
            if entry.name.startswith("."):
                continue
            if entry.is_dir() and entry.name.isdigit() and str(int(entry.name)) == entry.name:
                folders[(name_dir.name, int(entry.name))] = entry
            else:
                unexpected.append(entry)
    return folders, unexpected


def _stage_problems(rows) -> list[Problem]:
    by_name = defaultdict(list)
    for row in rows:
        by_name[row.name].append(row)
    problems = []
    for name, versions in by_name.items():
        champions = [r.version for r in versions if r.stage == "champion"]
        shadows = [r for r in versions if r.shadow]
        if len(champions) > 1:
            problems.append(Problem("stages", f"{name} has {len(champions)} champions (versions "
                                    f"{', '.join(map(str, champions))}); promote the right one "
                                    "to fix it"))
        if len(shadows) > 1 or any(r.stage != "candidate" for r in shadows):
            problems.append(Problem("stages", f"{name} has shadows "
                                    f"{', '.join(f'{r.version} ({r.stage})' for r in shadows)}; "
                                    "only one candidate may shadow: `mlexpert registry shadow "
                                    f"{name} VERSION --off` the others"))
    return problems


def _verify(registry, rows) -> list[Problem]:
    """Every registered folder present, intact, and the one that was registered."""
    problems = []
    for row in rows:
        path = registry.root / row.path
        label = f"{row.name}/{row.version}"
        try:
            read_manifest(path)
            if row.checksum and directory_checksum(path) != row.checksum:
                raise ArtifactError("its checksums file differs from the registered one (the "
                                    "folder was replaced)")
        except (ArtifactError, OSError) as exc:
            if not _still_registered(registry, row):
                continue  # deleted while we looked
            kind = "damaged" if path.is_dir() else "missing"
            what = "its folder is missing" if kind == "missing" else f"it is damaged: {str(exc).rstrip('.')}"
            problems.append(Problem(kind, f"{label} is registered but {what}; restore the folder "
                                    f"from a backup, or `mlexpert registry delete {row.name} "
                                    f"{row.version}`", path))
    return problems


def _still_registered(registry, row) -> bool:
    with registry.store.read() as conn:
        return conn.execute(select(mv.c.id).where(mv.c.name == row.name,
                                                  mv.c.version == row.version)).first() is not None
