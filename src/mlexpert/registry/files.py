"""The registry's folders: staging copies, moves out of the way, and what is left over.

Everything temporary lives directly under ROOT with a name starting with "." (a model
server ignores dot-folders): ``.staging-*`` (a model being copied in), ``.orphan-*`` (a
version folder whose registration never committed, moved aside) and ``.deleted-*`` (a
deleted version on its way out). A staging folder's name holds the process id and host
that own it, so that ``check`` can tell a copy in progress from one a killed process left.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import shutil
import socket
import time
from pathlib import Path

from ..artifacts.bundle import CHECKSUMS, read_manifest
from ..exceptions import ArtifactError

STAGING = ".staging-"
LEFTOVER_PREFIXES = (STAGING, ".orphan-", ".deleted-")
STALE_AFTER_S = 24 * 3600  # a staging folder of another host is abandoned after this long
_STAGING_NAME = re.compile(r"\.staging-[0-9a-f]+-(\d+)@(.+)")


def stage_copy(model_dir: str | os.PathLike, root: Path) -> tuple[Path, dict]:
    """Copy a verified model directory to ``ROOT/.staging-*``, flushed to disk and verified
    again; return the copy and its manifest. The copy is removed if anything fails."""
    source = Path(model_dir)
    read_manifest(source)  # refuse a modified or incomplete model before copying it
    root.mkdir(parents=True, exist_ok=True)
    staging = root / f"{STAGING}{secrets.token_hex(6)}-{os.getpid()}@{socket.gethostname()}"
    try:
        shutil.copytree(source, staging, symlinks=False)
        _flush_tree(staging)
        manifest = read_manifest(staging)
    except ArtifactError:
        remove_tree(staging)
        raise
    except OSError as exc:
        remove_tree(staging)
        raise ArtifactError(f"Cannot copy {str(model_dir)!r} into the registry {str(root)!r}: "
                            f"{exc}. Check free disk space and permissions.") from None
    except BaseException:
        remove_tree(staging)
        raise
    return staging, manifest


def directory_checksum(path: Path) -> str:
    """SHA-256 of the model's checksums file: it changes when any checksummed file does."""
    with open(path / CHECKSUMS, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def place(staging: Path, root: Path, name: str, version: int) -> tuple[Path, Path | None]:
    """Rename a staging copy to ``ROOT/NAME/VERSION`` durably; return it and where an
    orphan found in its way (a folder without a row) was moved aside, if any."""
    folder = root / name
    folder.mkdir(exist_ok=True)
    target = folder / str(version)
    aside = None
    if target.exists() or target.is_symlink():
        aside = move_aside(target, root, "orphan", f"{name}-{version}")
    os.replace(staging, target)
    fsync_dir(folder)
    return target, aside


def move_aside(path: Path, root: Path, kind: str, label: str) -> Path | None:
    """Rename ``path`` to ``ROOT/.KIND-LABEL-*`` (instant, atomic); None if it is gone."""
    target = root / f".{kind}-{label}-{secrets.token_hex(4)}"
    try:
        os.replace(path, target)
    except FileNotFoundError:
        return None
    fsync_dir(path.parent)
    return target


def remove_tree(path: Path | None) -> None:
    if path is not None:
        shutil.rmtree(path, ignore_errors=True)


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable (a no-op where folders cannot be opened)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def leftovers(root: Path) -> list[Path]:
    """Dot-folders under ROOT that no running registration owns any more."""
    if not root.is_dir():
        return []
    found = []
    for child in sorted(root.iterdir()):
        if child.name.startswith(LEFTOVER_PREFIXES) and child.is_dir() and not _in_progress(child):
            found.append(child)
    return found


def _in_progress(path: Path) -> bool:
    match = _STAGING_NAME.fullmatch(path.name)
    if match is None:
        return False
    pid, host = int(match.group(1)), match.group(2)
    if host != socket.gethostname():
        try:
            return time.time() - path.stat().st_mtime < STALE_AFTER_S
        except OSError:
            return False
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by another user
        return True
    return True


def _flush_tree(path: Path) -> None:
    for folder, _dirs, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(Path(folder))
