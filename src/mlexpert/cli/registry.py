"""``mlexpert registry``: register model versions, promote, roll back, and inspect history."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.markup import escape
from rich.table import Table

from ._display import console
from ._errors import handle_errors

registry_app = typer.Typer(
    help="A model registry: versions of named models in REGISTRY/NAME/VERSION/ with stages "
         "(candidate, champion, archived), lineage and a history of every change.",
    no_args_is_help=True,
)

Root = Annotated[Path, typer.Option("--registry", "-r", envvar="MLEXPERT_REGISTRY", show_envvar=True,
                                    help="The registry folder (models in NAME/VERSION/).")]
Store = Annotated[Optional[str], typer.Option("--store", envvar="MLEXPERT_STORE", show_envvar=True,
                                              help="Store URL (postgresql://user@host/db) or SQLite file; default REGISTRY/mlexpert.db.")]
AsJson = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout.")]
Verbose = Annotated[bool, typer.Option("--verbose", "-v", help="Tracebacks on errors.")]
Name = Annotated[str, typer.Argument(help="Model name.")]
Version = Annotated[int, typer.Argument(min=1, help="Version number.")]
DEFAULT_ROOT = Path("registry")
STAGE_STYLE = {"champion": "bold green", "candidate": "yellow", "archived": "dim"}


@registry_app.command("list")
def list_command(name: Annotated[Optional[str], typer.Argument(help="Only this model.")] = None,
                 registry: Root = DEFAULT_ROOT, store: Store = None, as_json: AsJson = False,
                 verbose: Verbose = False) -> None:
    """List the registered versions (of NAME)."""
    with handle_errors(verbose):
        versions = _open(registry, store, existing=True).versions(name)
        if as_json:
            return _json([v.to_dict() for v in versions])
        if not versions:
            console.print(escape(f"No versions{f' of {name!r}' if name else ''} in {registry}."))
            return
        table = Table(title=escape(f"Registry {registry}"), title_justify="left")
        for col in ("name", "version", "stage", "score", "parent", "created", "note"):
            table.add_column(col, justify="right" if col in ("version", "parent") else "left",
                             no_wrap=col != "note", overflow="fold" if col == "note" else "ellipsis")
        for v in versions:
            stage = _stage(v.stage) + (" [cyan]shadow[/]" if v.shadow else "")
            score = f"{v.metric} {_num(v.cv_score)}" if v.metric else "-"
            table.add_row(v.name, str(v.version), stage, score, _opt(v.parent_version),
                          _when(v.created_at), escape(v.note or ""))
        console.print(table)


@registry_app.command("show")
def show_command(name: Name,
                 version: Annotated[Optional[int], typer.Argument(min=1, help="Version (default: the champion).")] = None,
                 registry: Root = DEFAULT_ROOT, store: Store = None, as_json: AsJson = False,
                 verbose: Verbose = False) -> None:
    """Show one version (by default the champion): stage, lineage, scores and settings."""
    with handle_errors(verbose):
        info = _open(registry, store, existing=True).get(name, version)
        if as_json:
            return _json(info.to_dict())
        table = Table(title=f"{info.name} version {info.version}", title_justify="left",
                      show_header=False)
        table.add_column(style="bold")
        table.add_column(overflow="fold")
        rows = [("stage", _stage(info.stage) + (" (shadow)" if info.shadow else "")),
                ("path", escape(str(info.path))),
                ("created", escape(f"{info.created_at} by {info.created_by}")),
                ("parent version", _opt(info.parent_version)), ("task", info.task or "-"),
                ("metric", f"{info.metric or '-'} = {_num(info.cv_score)} (cross-validated)"),
                ("data fingerprint", info.data_fingerprint or "-"),
                ("checksum", info.checksum or "-"), ("note", escape(info.note or ""))]
        for section, part in info.metrics.items():
            values = ", ".join(f"{k} {_num(v)}" for k, v in (part.get("metrics") or {}).items())
            rows.append((f"{section.replace('_', ' ')} ({part.get('n_rows')} rows)", values))
        if info.settings:
            rows.append(("fit settings", escape(", ".join(
                f"{k}={v}" for k, v in info.settings.items() if v not in (None, [], {})))))
        for key, value in rows:
            table.add_row(key, value)
        console.print(table)


@registry_app.command("add")
def add_command(model_dir: Annotated[Path, typer.Argument(help="Model directory written by `mlexpert fit`.")],
                name: Annotated[str, typer.Option("--name", "-n", help="Model name (letters, digits, - and _).")],
                parent: Annotated[Optional[int], typer.Option(min=1, help="The version this one was retrained from.")] = None,
                stage: Annotated[Optional[str], typer.Option(help="candidate, champion or archived (default: champion for a new name, else candidate).")] = None,
                note: Annotated[Optional[str], typer.Option(help="A note kept with the version.")] = None,
                registry: Root = DEFAULT_ROOT, store: Store = None, as_json: AsJson = False,
                verbose: Verbose = False) -> None:
    """Copy MODEL_DIR into the registry as the next version of NAME (checksums verified)."""
    with handle_errors(verbose):
        info = _open(registry, store).register(model_dir, name, parent=parent, stage=stage, note=note)
        if as_json:
            return _json(info.to_dict())
        console.print(f"Registered {info.name} version {info.version} ({_stage(info.stage)}) "
                      f"at {escape(str(info.path))}.")


@registry_app.command("promote")
def promote_command(name: Name, version: Version, registry: Root = DEFAULT_ROOT,
                    store: Store = None, as_json: AsJson = False, verbose: Verbose = False) -> None:
    """Make VERSION the champion of NAME; the current champion is archived."""
    with handle_errors(verbose):
        reg = _open(registry, store, existing=True)
        before = reg.champion(name)
        _done(reg.promote(name, version), as_json,
              f"was version {before.version}" if before and before.version != version else None)


@registry_app.command("rollback")
def rollback_command(name: Name, registry: Root = DEFAULT_ROOT, store: Store = None,
                     as_json: AsJson = False, verbose: Verbose = False) -> None:
    """Make the previous champion of NAME the champion again."""
    with handle_errors(verbose):
        reg = _open(registry, store, existing=True)
        before = reg.champion(name)
        _done(reg.rollback(name), as_json, f"was version {before.version}" if before else None)


@registry_app.command("archive")
def archive_command(name: Name, version: Version, registry: Root = DEFAULT_ROOT,
                    store: Store = None, as_json: AsJson = False, verbose: Verbose = False) -> None:
    """Archive a candidate: kept on disk and promotable again, no longer offered."""
    with handle_errors(verbose):
        _done(_open(registry, store, existing=True).archive(name, version), as_json)


@registry_app.command("delete")
def delete_command(name: Name, version: Version,
                   yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
                   registry: Root = DEFAULT_ROOT, store: Store = None, verbose: Verbose = False) -> None:
    """Delete a version that is not the champion, with its folder (its number is not reused)."""
    from ..exceptions import InvalidParameterError

    with handle_errors(verbose):
        reg = _open(registry, store, existing=True)
        info = reg.get(name, version)
        if not yes and info.stage != "champion":  # the champion is refused below anyway
            if not sys.stdin.isatty():
                raise InvalidParameterError(f"Deleting {name} version {version} needs "
                                            "confirmation; pass --yes to confirm.")
            typer.confirm(f"Delete {name} version {version} ({info.stage}) and its folder {info.path}?",
                          abort=True)
        reg.delete(name, version)
        console.print(f"Deleted {name} version {version}.")


@registry_app.command("shadow")
def shadow_command(name: Name, version: Version,
                   off: Annotated[bool, typer.Option("--off", help="Stop shadowing.")] = False,
                   registry: Root = DEFAULT_ROOT, store: Store = None, as_json: AsJson = False,
                   verbose: Verbose = False) -> None:
    """Let candidate VERSION shadow the champion (it gets copies of its requests), or stop."""
    with handle_errors(verbose):
        _done(_open(registry, store, existing=True).set_shadow(name, version, on=not off), as_json)


@registry_app.command("history")
def history_command(name: Annotated[Optional[str], typer.Argument(help="Only this model.")] = None,
                    limit: Annotated[int, typer.Option(min=1, help="Most recent events to show.")] = 50,
                    registry: Root = DEFAULT_ROOT, store: Store = None, as_json: AsJson = False,
                    verbose: Verbose = False) -> None:
    """The registry's changes and recorded decisions, newest first."""
    with handle_errors(verbose):
        events = _open(registry, store, existing=True).events(name, limit)
        if as_json:
            return _json(events)
        if not events:
            console.print("No events yet.")
            return
        table = Table(title=escape(f"History of {name or registry}"), title_justify="left")
        columns = ("at", "version", "action", "stage", "by", "evidence")
        for col in columns if name else ("at", "name", *columns[1:]):
            table.add_column(col, no_wrap=col in ("at", "version", "action"),
                             overflow="fold" if col == "evidence" else "ellipsis")
        for e in events:
            stages = " -> ".join(dict.fromkeys(s for s in (e["from_stage"], e["to_stage"]) if s))
            cells = [_when(e["at"]), _opt(e["version"]), escape(e["action"]), stages,
                     escape(e["by"]), escape(_evidence(e["evidence"]))]
            table.add_row(*(cells if name else [cells[0], e["name"], *cells[1:]]))
        console.print(table)


@registry_app.command("check")
def check_command(repair: Annotated[bool, typer.Option("--repair", help="Remove orphan folders and leftover temporary copies.")] = False,
                  registry: Root = DEFAULT_ROOT, store: Store = None, as_json: AsJson = False,
                  verbose: Verbose = False) -> None:
    """Check that every version's folder is present and intact and nothing else is there."""
    from ..exceptions import StoreError
    from ..registry.check import inspect

    with handle_errors(verbose):
        problems = inspect(_open(registry, store, existing=True), repair=repair)
        left = [p for p in problems if not p.repaired]
        if as_json:
            _json([{"kind": p.kind, "message": p.message, "path": str(p.path) if p.path else None,
                    "repairable": p.repairable, "repaired": p.repaired} for p in problems])
        else:
            for p in problems:
                mark = "[green]removed[/]" if p.repaired else "[red]problem[/]"
                console.print(f"{mark}: {escape(p.message)}")
            if not left:
                console.print(f"[green]OK[/]: {escape(str(registry))} is consistent.")
        if left:
            fixable = sum(p.repairable for p in left)
            hint = f"; {fixable} can be removed with --repair" if fixable else ""
            raise StoreError(f"{len(left)} problem(s) in the registry {registry}{hint}.")


def _open(root: Path, store: str | None, existing: bool = False):
    """The registry; for reading, refuse to create an empty one by mistake."""
    from ..exceptions import InvalidParameterError
    from ..registry import Registry
    from ..store.engine import DEFAULT_FILE

    if existing and not (store or os.environ.get("MLEXPERT_STORE")) and not (root / DEFAULT_FILE).exists():
        raise InvalidParameterError(
            f"No registry at {str(root)!r} ({DEFAULT_FILE} not found). Add a model with "
            f"`mlexpert registry add MODEL_DIR --name NAME --registry {root}`, or point "
            "--registry (or MLEXPERT_REGISTRY) at an existing registry.")
    return Registry(root, store)


def _done(info, as_json: bool, before: str | None = None) -> None:
    if as_json:
        return _json(info.to_dict())
    extra = f"; the champion {before}" if before else ""
    shadow = " (shadow)" if info.shadow else ""
    console.print(f"{info.name} version {info.version} is {_stage(info.stage)}{shadow}{extra}.")


def _json(value) -> None:
    typer.echo(json.dumps(value, indent=2, default=str))


def _stage(stage: str) -> str:
    style = STAGE_STYLE.get(stage)
    return f"[{style}]{stage}[/]" if style else escape(stage)


def _num(value) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _opt(value) -> str:
    return "-" if value is None else str(value)


def _when(iso: str) -> str:
    """``2026-01-31 12:00`` (UTC) from an ISO-8601 time."""
    return iso[:16].replace("T", " ")


def _evidence(evidence) -> str:
    """Evidence as ``key=value`` pairs; long values (checksums, paths) shortened."""
    if not evidence:
        return ""
    parts = []
    for key, value in evidence.items():
        if value is None or value is False:
            continue
        text = f"{value:.4g}" if isinstance(value, float) else str(value)
        parts.append(f"{key}={text if len(text) <= 24 else text[:10] + '…' + text[-10:]}")
    return ", ".join(parts)

