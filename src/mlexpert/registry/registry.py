"""The model registry: versions of named models in ``ROOT/NAME/VERSION/``, their stages and
lineage in the store, every change an event.

Every change is one exclusive write transaction (serialised across processes). A new
version is copied to ``ROOT/.staging-*`` and verified first; inside the transaction its
number is allocated, the row and event are inserted, and the staging folder is renamed to
``ROOT/NAME/N`` just before the commit. A process killed at any moment therefore leaves
either a committed version with its folder, or a folder without a row (an orphan) or a
staging copy, which :meth:`Registry.check` reports and ``check(repair=True)`` removes.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import delete as sql_delete
from sqlalchemy import select

from ..artifacts.bundle import read_manifest
from ..exceptions import ChampionChangedError, InvalidParameterError
from ..store import model_versions as mv
from ..store import open_store
from ..store import store_url as resolve_store_url
from . import ledger
from .files import directory_checksum, move_aside, place, remove_tree, stage_copy
from .versions import (VersionInfo, check_name, check_stage, check_version, default_actor,
                       manifest_fields, utc_now, version_from_row)

# test hook: seconds to wait between moving a new version into place and committing it, so
# that a test can kill the process inside that window (see tests/test_registry.py)
PAUSE_ENV = "MLEXPERT_REGISTRY_PAUSE_S"
ANY = object()  # promote(if_champion=ANY): whatever the current champion


class Registry:
    """Named, versioned models under ``root`` with their stages in a store.

    ``store_url`` defaults to $MLEXPERT_STORE, else the SQLite file ``ROOT/mlexpert.db``;
    a PostgreSQL URL (``postgresql://...``) lets several machines share one registry.
    One store holds one registry: its rows name folders relative to ``root``.
    """

    def __init__(self, root: str | os.PathLike, store_url: str | None = None):
        self.root = Path(root).resolve()
        self.store = open_store(resolve_store_url(self.root, store_url))

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r})"

    # -- reading -------------------------------------------------------------------------

    def versions(self, name: str | None = None) -> list[VersionInfo]:
        """Every version (of ``name``), by name then version."""
        with self.store.read() as conn:
            return [self._info(r) for r in ledger.version_rows(conn, name)]

    def names(self) -> list[str]:
        with self.store.read() as conn:
            return ledger.known_names(conn)

    def get(self, name: str, version: int | None = None) -> VersionInfo:
        """One version; without ``version``, the champion."""
        if version is None:
            found = self.champion(name)
            if found is None:
                self._require_name(name)
                raise InvalidParameterError(
                    f"Model {name!r} has no champion; promote a version with `mlexpert registry "
                    f"promote {name} VERSION`.")
            return found
        with self.store.read() as conn:
            return self._info(ledger.require_row(conn, name, check_version(version)))

    def champion(self, name: str) -> VersionInfo | None:
        return self._first(name, mv.c.stage == "champion")

    def shadow(self, name: str) -> VersionInfo | None:
        return self._first(name, mv.c.shadow.is_(True))

    def events(self, name: str | None = None, limit: int = 100) -> list[dict]:
        """The newest ``limit`` changes and recorded decisions (of ``name``), newest first."""
        import json

        with self.store.read() as conn:
            rows = ledger.event_rows(conn, name, limit=max(1, int(limit)))
        return [{**r._mapping, "evidence": json.loads(r.evidence) if r.evidence else None}
                for r in rows]

    def generation(self) -> int:
        """A number that grows with every change of the registry (poll it to reload)."""
        with self.store.read() as conn:
            return ledger.total_generation(conn)

    def check(self, *, repair: bool = False) -> list[str]:
        """Consistency problems, one line each; ``repair`` removes orphans and leftovers
        (their lines then end with "(removed)"). Never touches a committed version."""
        from .check import inspect

        return [p.describe() for p in inspect(self, repair=repair)]

    # -- changing ------------------------------------------------------------------------

    def register(self, model_dir: str | os.PathLike, name: str, *, parent: int | None = None,
                 stage: str | None = None, note: str | None = None,
                 by: str | None = None) -> VersionInfo:
        """Copy a verified model directory in as the next version of ``name``.

        Without ``stage``, the first version of a name becomes its champion, later ones
        candidates. ``stage="champion"`` archives the current champion in the same step.
        """
        check_name(name)
        stage = None if stage is None else check_stage(stage)
        parent = None if parent is None else check_version(parent)
        by = by or default_actor()
        staging, manifest = stage_copy(model_dir, self.root)
        fields = manifest_fields(manifest)
        checksum = directory_checksum(staging)
        placed = aside = None
        try:
            with self.store.write(exclusive=True) as conn:
                rows = ledger.version_rows(conn, name)
                if parent is not None and parent not in {r.version for r in rows}:
                    raise InvalidParameterError(
                        f"Parent version {parent} of {name!r} is not in the registry; versions: "
                        f"{', '.join(str(r.version) for r in rows) or 'none'}.")
                version = ledger.next_version(conn, name)
                chosen = stage or ("candidate" if rows else "champion")
                previous = next((r.version for r in rows if r.stage == "champion"), None)
                if chosen == "champion" and previous is not None:
                    ledger.set_stage(conn, name, previous, "archived", shadow=False)
                conn.execute(mv.insert().values(
                    name=name, version=version, stage=chosen, path=f"{name}/{version}",
                    created_at=utc_now(), created_by=by, parent_version=parent,
                    checksum=checksum, shadow=False, note=note, **fields))
                evidence = {"source": str(Path(model_dir).resolve())}
                if chosen == "champion":
                    evidence["previous_champion"] = previous
                ledger.add_event(conn, name, "register", by, version=version, to_stage=chosen,
                                 evidence=evidence)
                ledger.bump_generation(conn, name)
                placed, aside = place(staging, self.root, name, version)
                _pause_for_tests()
        except BaseException:
            self._undo_placement(name, placed, staging)
            raise
        remove_tree(aside)
        return self.get(name, version)

    def promote(self, name: str, version: int, *, evidence: dict | None = None,
                by: str | None = None, if_champion: int | None | object = ANY) -> VersionInfo:
        """Make ``version`` the champion; the current champion is archived.

        ``if_champion``: promote only if the champion is still this version (None: still
        none), checked inside the same exclusive transaction; otherwise nothing changes and
        :class:`~mlexpert.exceptions.ChampionChangedError` says which version is champion.
        A decision taken against one champion can then never archive another.
        """
        version = check_version(version)
        read_manifest(self.get(name, version).path)  # never promote a damaged model
        with self.store.write(exclusive=True) as conn:
            row = ledger.require_row(conn, name, version)
            previous = self._champion_version(conn, name)
            if if_champion is not ANY and previous != if_champion:
                raise ChampionChangedError(
                    f"Model {name!r} was not promoted: its champion is now version {previous}, "
                    f"not {if_champion} as expected. Compare against the new champion first.",
                    previous)
            if row.stage != "champion":
                if previous is not None:
                    ledger.set_stage(conn, name, previous, "archived", shadow=False)
                ledger.set_stage(conn, name, version, "champion", shadow=False)
                ledger.add_event(conn, name, "promote", by or default_actor(), version=version,
                                 from_stage=row.stage, to_stage="champion",
                                 evidence={**(evidence or {}), "previous_champion": previous})
                ledger.bump_generation(conn, name)
        return self.get(name, version)

    def rollback(self, name: str, *, by: str | None = None) -> VersionInfo:
        """Make the previous champion (from the event history) the champion again."""
        with self.store.write(exclusive=True) as conn:
            current = self._champion_version(conn, name)
            if current is None:
                self._require_name(name)
                raise InvalidParameterError(f"Model {name!r} has no champion to roll back from.")
            existing = {r.version: r for r in ledger.version_rows(conn, name)}
            stack = ledger.champion_history(ledger.event_rows(conn, name, newest_first=False))
            while stack and (stack[-1] == current or stack[-1] not in existing):
                stack.pop()
            if not stack:
                raise InvalidParameterError(
                    f"Model {name!r} has no previous champion to roll back to (champion: version "
                    f"{current}). Promote a version with `mlexpert registry promote {name} VERSION`.")
            target = existing[stack[-1]]
            read_manifest(self.root / target.path)  # the way back must be a sound model
            ledger.set_stage(conn, name, current, "archived", shadow=False)
            ledger.set_stage(conn, name, target.version, "champion", shadow=False)
            ledger.add_event(conn, name, "rollback", by or default_actor(), version=target.version,
                             from_stage=target.stage, to_stage="champion",
                             evidence={"from_version": current})
            ledger.bump_generation(conn, name)
        return self.get(name, target.version)

    def archive(self, name: str, version: int, *, by: str | None = None) -> VersionInfo:
        """Retire a candidate (kept on disk, promotable again). Not the champion."""
        version = check_version(version)
        with self.store.write(exclusive=True) as conn:
            row = _not_champion(ledger.require_row(conn, name, version), name, "archived")
            if row.stage != "archived":
                ledger.set_stage(conn, name, version, "archived", shadow=False)
                ledger.add_event(conn, name, "archive", by or default_actor(), version=version,
                                 from_stage=row.stage, to_stage="archived")
                ledger.bump_generation(conn, name)
        return self.get(name, version)

    def delete(self, name: str, version: int, *, by: str | None = None) -> None:
        """Remove a version that is not the champion: its row now, its folder after."""
        version = check_version(version)
        with self.store.write(exclusive=True) as conn:
            row = _not_champion(ledger.require_row(conn, name, version), name, "deleted")
            conn.execute(sql_delete(mv).where(mv.c.name == name, mv.c.version == version))
            ledger.add_event(conn, name, "delete", by or default_actor(), version=version,
                             from_stage=row.stage,
                             evidence={"checksum": row.checksum, "shadow": bool(row.shadow)})
            ledger.bump_generation(conn, name)
        # after the commit: a kill here leaves an orphan folder, which check() removes
        remove_tree(move_aside(self.root / row.path, self.root, "deleted", f"{name}-{version}"))

    def set_shadow(self, name: str, version: int, on: bool = True, *,
                   by: str | None = None) -> VersionInfo:
        """Mirror the champion's traffic to a candidate (one shadow per name), or stop."""
        version = check_version(version)
        with self.store.write(exclusive=True) as conn:
            row = ledger.require_row(conn, name, version)
            if on and row.stage != "candidate":
                raise InvalidParameterError(
                    f"Version {version} of {name!r} is {row.stage}; only a candidate can shadow "
                    "the champion (it receives copies of the champion's requests).")
            if bool(row.shadow) != on:
                replaced = None
                if on:
                    old = conn.execute(select(mv.c.version).where(
                        mv.c.name == name, mv.c.shadow.is_(True))).scalar()
                    if old is not None:
                        ledger.set_stage(conn, name, old, shadow=False)
                        replaced = old
                ledger.set_stage(conn, name, version, shadow=on)
                ledger.add_event(conn, name, "shadow", by or default_actor(), version=version,
                                 from_stage=row.stage, to_stage=row.stage,
                                 evidence={"on": on, "replaced": replaced})
                ledger.bump_generation(conn, name)
        return self.get(name, version)

    def record(self, name: str, action: str, *, version: int | None = None,
               evidence: dict | None = None, by: str | None = None) -> None:
        """Add a decision to the history (e.g. ``"retrain"`` with its reasons)."""
        if (not isinstance(action, str) or not action or len(action) > 40
                or action in ledger.BUILT_IN_ACTIONS):
            raise InvalidParameterError(
                f"Invalid action {action!r}: name the decision in at most 40 characters, other "
                f"than the registry's own {', '.join(ledger.BUILT_IN_ACTIONS)}.")
        version = None if version is None else check_version(version)
        with self.store.write(exclusive=True) as conn:
            if version is not None:
                ledger.require_row(conn, name, version)
            elif not ledger.version_rows(conn, name):
                self._require_name(name, conn)
            ledger.add_event(conn, name, action, by or default_actor(), version=version,
                             evidence=evidence)

    # -- helpers -------------------------------------------------------------------------

    def _info(self, row) -> VersionInfo:
        return version_from_row(self.root, row)

    def _first(self, name: str, condition) -> VersionInfo | None:
        with self.store.read() as conn:
            row = conn.execute(select(mv).where(mv.c.name == name, condition)
                               .order_by(mv.c.version.desc())).first()
        return None if row is None else self._info(row)

    @staticmethod
    def _champion_version(conn, name: str) -> int | None:
        return conn.execute(select(mv.c.version).where(
            mv.c.name == name, mv.c.stage == "champion")).scalar()

    def _require_name(self, name: str, conn=None) -> None:
        if conn is None:
            with self.store.read() as own:
                return self._require_name(name, own)
        if not ledger.version_rows(conn, name):
            raise InvalidParameterError(f"No model named {name!r} in the registry; known names: "
                                        f"{', '.join(ledger.known_names(conn)) or 'none'}.")

    def _undo_placement(self, name: str, placed: Path | None, staging: Path) -> None:
        """After a failed registration: remove the copy unless a commit may have kept it."""
        if placed is None:
            remove_tree(staging)
            return
        try:  # the commit itself may have failed after the server applied it
            with self.store.read() as conn:
                kept = conn.execute(select(mv.c.id).where(
                    mv.c.name == name, mv.c.path == f"{name}/{placed.name}")).first()
        except Exception:
            return  # unknown: leave the folder; check() reports it if it is an orphan
        if kept is None:
            remove_tree(move_aside(placed, self.root, "orphan", f"{name}-{placed.name}"))


def _not_champion(row, name: str, done: str):
    """``row``, unless it is the champion (which can't be archived or deleted)."""
    if row.stage == "champion":
        raise InvalidParameterError(
            f"Version {row.version} is the champion of {name!r} and cannot be {done}; promote "
            f"another version or `mlexpert registry rollback {name}` first.")
    return row


def _pause_for_tests() -> None:
    seconds = os.environ.get(PAUSE_ENV)
    if seconds:
        time.sleep(float(seconds))
