"""A throwaway PostgreSQL server for tests (not a test module).

``running_postgres()`` creates a cluster in a temporary folder, starts it on 127.0.0.1 at a
free port (its unix socket in that folder too), creates the database ``mlexpert``, yields
its URL and finally stops the server and removes the folder. ``scripts/setup-postgres.sh``
installs the binaries (``make test`` runs it). Typical use, through the ``postgres_url``
fixture of tests/conftest.py::

    def test_something(postgres_url):
        url = fresh_schema(postgres_url)   # an empty store of its own
        registry = Registry(tmp_path, url)

As root the server binaries run as an unprivileged user (initdb refuses root): the
``postgres`` account when it exists, else ``nobody``.
"""

from __future__ import annotations

import contextlib
import glob
import importlib.util
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

USER = "mlexpert"  # the cluster's superuser; trust authentication on loopback only
DATABASE = "mlexpert"
MISSING = "PostgreSQL server binaries not found: run bash scripts/setup-postgres.sh"


def postgres_bindir() -> Path | None:
    """The folder holding initdb, pg_ctl and postgres, or None."""
    candidates = []
    found = shutil.which("initdb")
    if found:
        candidates.append(Path(found).resolve().parent)
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major,
                                           reverse=True)]
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    return None


def postgres_missing() -> str | None:
    """Why a server cannot be started here, or None when it can."""
    if postgres_bindir() is None:
        return MISSING
    if importlib.util.find_spec("psycopg") is None:
        return "psycopg not installed: run pip install -e '.[test,postgres]'"
    if os.geteuid() == 0 and shutil.which("runuser") is None and shutil.which("setpriv") is None:
        return "running as root without runuser or setpriv to start PostgreSQL as another user"
    return None


@contextlib.contextmanager
def running_postgres() -> Iterator[str]:
    """Start a private server; yield ``postgresql://mlexpert@127.0.0.1:PORT/mlexpert``."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError(MISSING)
    owner = _server_user()
    folder = Path(tempfile.mkdtemp(prefix="mlexpert-pg-"))
    data = folder / "data"
    try:
        if owner is not None:
            os.chown(folder, owner.pw_uid, owner.pw_gid)
        _run(owner, folder, [bindir / "initdb", "-D", data, "-U", USER, "--auth=trust",
                             "--encoding=UTF8", "--no-instructions", "--no-sync"])
        port = _start(owner, folder, bindir, data)
        try:
            _run(owner, folder, [bindir / "createdb", "-h", "127.0.0.1", "-p", port, "-U", USER,
                                 DATABASE])
            yield f"postgresql://{USER}@127.0.0.1:{port}/{DATABASE}"
        finally:
            _run(owner, folder, [bindir / "pg_ctl", "-D", data, "stop", "-m", "fast", "-w"],
                 check=False)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def fresh_schema(url: str) -> str:
    """Create an empty schema in the database of ``url``; return a URL whose connections
    use it (``search_path``): an empty store per test, instantly."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    return f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{name}"


def fresh_database(url: str) -> str:
    """Create an empty database on the server of ``url``; return its URL (slower than
    :func:`fresh_schema`: use it when a test needs a database of its own)."""
    import psycopg

    name = f"t_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return re.sub(r"/[^/?]*(\?.*)?$", f"/{name}", url)


def _start(owner, folder: Path, bindir: Path, data: Path) -> str:
    """Start the server on a free loopback port (a few tries: another process may take it)."""
    for attempt in range(3):
        port = str(_free_port())
        options = (f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=on "
                   "-c max_connections=200 -c shared_buffers=32MB")
        done = _run(owner, folder, [bindir / "pg_ctl", "-D", data, "-l", folder / "server.log",
                                    "-o", options, "-w", "-t", "60", "start"], check=False)
        if done.returncode == 0:
            return port
    log = (folder / "server.log").read_text(errors="replace")[-2000:]
    raise RuntimeError(f"PostgreSQL did not start: {done.stderr.strip()}\n{log}")


def _run(owner, folder: Path, argv: list, check: bool = True) -> subprocess.CompletedProcess:
    argv = [str(a) for a in argv]
    if owner is not None:
        if shutil.which("runuser"):
            argv = ["runuser", "-u", owner.pw_name, "--", *argv]
        else:
            argv = ["setpriv", f"--reuid={owner.pw_uid}", f"--regid={owner.pw_gid}",
                    "--clear-groups", *argv]
    done = subprocess.run(argv, cwd=folder, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})
    if check and done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.strip() or done.stdout.strip()}")
    return done


def _server_user():
    """The account to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and no 'postgres' or 'nobody' account to run PostgreSQL as")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _major(path: str) -> float:
    match = re.search(r"/(\d+(?:\.\d+)?)/bin$", path)
    return float(match.group(1)) if match else 0.0
