"""The registry's rows and events, read and written inside a caller's transaction."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from ..exceptions import InvalidParameterError
from ..store import model_versions as mv
from ..store import registry_events as ev
from ..store import registry_heads as heads
from .versions import dumps, utc_now

# actions the registry itself records; ``Registry.record`` takes any other name
BUILT_IN_ACTIONS = ("register", "promote", "rollback", "archive", "delete", "shadow")


def version_rows(conn: Connection, name: str | None = None) -> list:
    query = select(mv).order_by(mv.c.name, mv.c.version)
    if name is not None:
        query = query.where(mv.c.name == name)
    return list(conn.execute(query))


def require_row(conn: Connection, name: str, version: int):
    """The row of ``name`` ``version``, or an error that lists what exists."""
    row = conn.execute(select(mv).where(mv.c.name == name, mv.c.version == version)).first()
    if row is not None:
        return row
    existing = [r.version for r in version_rows(conn, name)]
    if not existing:
        raise InvalidParameterError(f"No model named {name!r} in the registry; known names: "
                                    f"{', '.join(known_names(conn)) or 'none'}.")
    raise InvalidParameterError(f"Model {name!r} has no version {version}; versions: "
                                f"{', '.join(map(str, existing))}.")


def known_names(conn: Connection) -> list[str]:
    return list(conn.scalars(select(mv.c.name).distinct().order_by(mv.c.name)))


def next_version(conn: Connection, name: str) -> int:
    """One more than any version the name ever had: a deleted number is never reused."""
    in_rows = conn.scalar(select(func.max(mv.c.version)).where(mv.c.name == name)) or 0
    in_events = conn.scalar(select(func.max(ev.c.version)).where(ev.c.name == name)) or 0
    return max(in_rows, in_events) + 1


def set_stage(conn: Connection, name: str, version: int, stage: str | None = None,
              shadow: bool | None = None) -> None:
    values = {}
    if stage is not None:
        values["stage"] = stage
    if shadow is not None:
        values["shadow"] = shadow
    conn.execute(update(mv).where(mv.c.name == name, mv.c.version == version).values(**values))


def add_event(conn: Connection, name: str, action: str, by: str, *, version: int | None = None,
              from_stage: str | None = None, to_stage: str | None = None,
              evidence: dict | None = None) -> None:
    conn.execute(ev.insert().values(name=name, version=version, action=action,
                                    from_stage=from_stage, to_stage=to_stage, at=utc_now(),
                                    by=by, evidence=dumps(evidence) if evidence else None))


def bump_generation(conn: Connection, name: str) -> None:
    """Count one more change of ``name`` (a server polls the sum to reload)."""
    done = conn.execute(update(heads).where(heads.c.name == name)
                        .values(generation=heads.c.generation + 1))
    if done.rowcount == 0:
        conn.execute(heads.insert().values(name=name, generation=1))


def total_generation(conn: Connection) -> int:
    return int(conn.scalar(select(func.coalesce(func.sum(heads.c.generation), 0))) or 0)


def event_rows(conn: Connection, name: str | None = None, limit: int | None = None,
               newest_first: bool = True) -> list:
    query = select(ev).order_by(ev.c.id.desc() if newest_first else ev.c.id)
    if name is not None:
        query = query.where(ev.c.name == name)
    if limit is not None:
        query = query.limit(limit)
    return list(conn.execute(query))


def champion_history(events) -> list[int]:
    """The champions of a name, oldest first, as a stack that a rollback pops.

    ``events`` are the name's events, oldest first. A register or promote that made a
    champion pushes its version; a rollback pops the version it left (and any versions
    it skipped) so that the one it went back to is on top again.
    """
    stack: list[int] = []
    for event in events:
        if event.action in ("register", "promote") and event.to_stage == "champion":
            stack.append(event.version)
        elif event.action == "rollback":
            if stack:
                stack.pop()
            while stack and stack[-1] != event.version:
                stack.pop()
            if not stack:
                stack.append(event.version)
    return stack
