"""Open the store: an embedded SQLite file by default, or any SQLAlchemy URL (PostgreSQL).

Writes are transactions. On SQLite a writing transaction starts with ``BEGIN IMMEDIATE``
(it takes the write lock at once, so two writers never interleave a read-then-write) and
the file runs in WAL mode with ``synchronous=FULL`` (a committed transaction survives a
killed process). On PostgreSQL an exclusive write also takes a transaction-scoped advisory
lock, which serialises registry changes across processes and machines.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from ..exceptions import StoreError
from .tables import metadata

ENV = "MLEXPERT_STORE"
DEFAULT_FILE = "mlexpert.db"
BUSY_TIMEOUT_S = 60
_LOCK_KEY = 7_311_432_001  # advisory lock of registry writes (PostgreSQL)
_opened: dict[str, "Store"] = {}
_opened_lock = threading.Lock()


def store_url(root: str | os.PathLike | None = None, url: str | None = None) -> str | None:
    """The store to use: ``url``, else $MLEXPERT_STORE, else ``ROOT/mlexpert.db`` (SQLite)."""
    chosen = url or os.environ.get(ENV)
    if chosen:
        if "://" not in chosen:  # a plain path is a SQLite file
            return f"sqlite:///{Path(chosen).resolve()}"
        return chosen
    if root is None:
        return None
    return f"sqlite:///{(Path(root) / DEFAULT_FILE).resolve()}"


def _driver_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (the ``postgres`` extra), not psycopg2."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url.split("@")[-1]


class Store:
    """A connection pool to one store, with its tables created."""

    def __init__(self, url: str):
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        try:
            self.engine = self._engine(url)
            self._create_tables()
        except ImportError as exc:
            raise StoreError(f"Cannot open the store {redact(url)}: {exc}. For PostgreSQL install "
                             "`pip install 'mlexpert[postgres]'`.") from None
        except SQLAlchemyError as exc:
            raise StoreError(f"Cannot open the store {redact(url)}: {_reason(exc)}. Check the URL, "
                             "that the server is running and that you may write there.") from None

    def _engine(self, url: str) -> Engine:
        if not self.is_sqlite:
            return create_engine(_driver_url(url), pool_pre_ping=True, pool_size=4,
                                 max_overflow=8)
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_S,
                                                  "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we say BEGIN ourselves (below)
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            immediate = conn.get_execution_options().get("mlexpert_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def _create_tables(self) -> None:
        for attempt in range(3):  # two processes creating the tables at once may collide
            try:
                with self.write(exclusive=True) as conn:
                    metadata.create_all(conn, checkfirst=True)
                return
            except SQLAlchemyError:
                if attempt == 2:
                    raise

    @contextlib.contextmanager
    def write(self, *, exclusive: bool = False):
        """A writing transaction, committed on success and rolled back on any error.

        ``exclusive`` serialises it against every other exclusive write of the store
        (registry changes): on SQLite every write is, on PostgreSQL an advisory lock does it.
        """
        conn = self.engine.connect().execution_options(mlexpert_write=True)
        try:
            with conn.begin():
                if exclusive and not self.is_sqlite:
                    conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
                yield conn
        except OperationalError as exc:
            raise StoreError(f"The store {redact(self.url)} refused a write: {_reason(exc)}. "
                             "Retry; if it persists, check the database server and disk.") from None
        finally:
            conn.close()

    @contextlib.contextmanager
    def read(self):
        """A read-only transaction: one consistent snapshot of the store."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def connection(self) -> Connection:
        """A plain connection for streaming reads (the caller closes it)."""
        return self.engine.connect()

    def close(self) -> None:
        self.engine.dispose()


def open_store(url: str) -> Store:
    """The :class:`Store` for ``url``, opened once per process and shared."""
    with _opened_lock:
        store = _opened.get(url)
        if store is None:
            store = _opened[url] = Store(url)
        return store


def forget_stores() -> None:
    """Close every store this process opened (after a fork, or at the end of a test)."""
    with _opened_lock:
        for store in _opened.values():
            store.close()
        _opened.clear()


def _reason(exc: SQLAlchemyError) -> str:
    orig = getattr(exc, "orig", None)
    return str(orig or exc).strip().splitlines()[0]
