"""Read a table from a file, a DataFrame, a pyarrow Table, or a SQL query.

Every failure is a one-line :class:`~mlexpert.exceptions.DataError` that names the
problem and the fix. Dtypes keep pandas' defaults; dates are not parsed here.
"""

from __future__ import annotations

import inspect
import os
import re
import warnings
from collections import Counter
from pathlib import Path

import pandas as pd

from ..exceptions import DataError, InvalidParameterError
from ..utils._optional import import_optional

FORMATS = {".csv": "csv", ".tsv": "tsv", ".parquet": "parquet", ".pq": "parquet",
           ".json": "json", ".jsonl": "jsonl", ".ndjson": "jsonl"}
COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz", ".zst")
_DUCKDB_SUFFIXES = (".duckdb", ".db")
_MANGLED = re.compile(r"\.\d+$")


def read_table(source=None, *, sql: str | None = None, db: str | None = None) -> pd.DataFrame:
    """Return the table in ``source`` (path, DataFrame or pyarrow Table) or the result of ``sql``.

    ``sql`` runs in DuckDB in memory when ``db`` is None (DuckDB can query files:
    ``SELECT * FROM 'data.parquet'``), in a DuckDB file when ``db`` ends with
    ``.duckdb``/``.db`` or starts with ``duckdb://``, else through SQLAlchemy with ``db``
    as the URL.
    """
    if sql is not None and source is not None:
        raise InvalidParameterError("Pass either a data source or a SQL query (sql=...), not both.")
    if sql is not None:
        if not isinstance(sql, str) or not sql.strip():
            raise InvalidParameterError("sql must be a non-empty SQL query string.")
        df, what = _read_sql(sql, db)
    elif db is not None:
        raise InvalidParameterError("db=... is only used with sql=...; pass the query as sql.")
    elif isinstance(source, pd.DataFrame):
        df, what = source.copy().reset_index(drop=True), "The DataFrame"
    elif _is_arrow_table(source):
        df, what = source.to_pandas().infer_objects(), "The pyarrow Table"
    elif isinstance(source, (str, os.PathLike)):
        df, what = _read_file(source)
    else:
        raise InvalidParameterError(
            f"Cannot read data from a {type(source).__name__}. Pass a file path, a pandas "
            "DataFrame, a pyarrow Table, or a SQL query (sql=...)."
        )
    return _check_frame(df, what)


def _is_arrow_table(obj) -> bool:
    return type(obj).__module__.startswith("pyarrow") and type(obj).__name__ == "Table"


def _one_line(exc: BaseException, limit: int = 200) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    text = lines[0] if lines else type(exc).__name__
    text = text.rstrip(". ")
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_frame(df: pd.DataFrame, what: str) -> pd.DataFrame:
    if len(df) == 0:
        raise DataError(f"{what} has no rows. Pass a table with at least one data row.")
    if len(df.columns) == 0:
        raise DataError(f"{what} has no columns. Pass a table with at least one column.")
    df.columns = [str(c) for c in df.columns]
    _check_unique(list(df.columns))
    return df


def _check_unique(names: list[str]) -> None:
    dups = [(n, k) for n, k in Counter(names).items() if k > 1]
    if dups:
        listed = "; ".join(f"{n!r} appears {k} times" for n, k in dups)
        raise DataError(f"Column names must be unique; {listed}. Rename the duplicates.")


# -- files --------------------------------------------------------------------------


def _file_format(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSIONS:
        suffixes = suffixes[:-1]
    return FORMATS.get(suffixes[-1]) if suffixes else None


def _read_file(source) -> tuple[pd.DataFrame, str]:
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise DataError(f"Data file {name!r} does not exist. Check the path "
                        f"(current directory: {os.getcwd()}).")
    if path.is_dir():
        raise DataError(f"{name!r} is a directory, not a data file. Pass a file inside it, or "
                        f"query many files with sql=\"SELECT * FROM '{name}/*.parquet'\".")
    fmt = _file_format(path)
    if fmt is None:
        raise DataError(
            f"Cannot read {name!r}: unsupported file type. Supported: "
            f"{', '.join(FORMATS)} (optionally compressed {', '.join(COMPRESSIONS)}). "
            "Export it to CSV or Parquet."
        )
    if not os.access(path, os.R_OK):
        raise _permission_error(name)
    if path.stat().st_size == 0:
        raise DataError(f"{name!r} is empty: it has no rows. Pass a file with data in it.")
    try:
        df = _READERS[fmt](path, name)
    except PermissionError as exc:
        raise _permission_error(name) from exc
    except UnicodeDecodeError as exc:
        msg = f"{name!r} is not UTF-8 text ({_one_line(exc)}). Re-save it as UTF-8."
        raise DataError(msg) from exc
    return df, repr(name)


def _permission_error(name: str) -> DataError:
    return DataError(f"Cannot read {name!r}: permission denied. Fix its permissions or copy it.")


def _read_csv(path: Path, name: str, sep: str = ",") -> pd.DataFrame:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            df = pd.read_csv(path, sep=sep, index_col=False, low_memory=False)
    except pd.errors.EmptyDataError as exc:
        msg = f"{name!r} has no rows (and no header). Pass a file with data in it."
        raise DataError(msg) from exc
    except (pd.errors.ParserError, pd.errors.ParserWarning, EOFError) as exc:
        kind = "TSV" if sep == "\t" else "CSV"
        msg = (f"{name!r} is not a well-formed {kind} file ({_one_line(exc)}). "
               "Check the delimiter and quoting, or re-export it.")
        raise DataError(msg) from exc
    except OSError as exc:
        if isinstance(exc, PermissionError):
            raise
        raise DataError(f"Cannot read {name!r} ({_one_line(exc)}). Check that the file is "
                        "not truncated and its compression matches its extension.") from exc
    # pandas renames a repeated header 'a' to 'a.1'; read the raw header to catch it.
    if any(_MANGLED.search(str(c)) for c in df.columns):
        header = pd.read_csv(path, sep=sep, header=None, nrows=1, dtype=str, keep_default_na=False)
        _check_unique([h for h in header.iloc[0].tolist() if h != ""])
    return df


def _read_parquet(path: Path, name: str) -> pd.DataFrame:
    import pyarrow as pa

    try:
        return pd.read_parquet(path)
    except PermissionError:
        raise
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(f"{name!r} is not a valid Parquet file ({_one_line(exc)}). "
                        "Re-export it, or pass a CSV.") from exc


def _read_json(path: Path, name: str, lines: bool = False) -> pd.DataFrame:
    try:
        return _pandas_json(path, lines)
    except PermissionError:
        raise
    except ValueError as exc:
        if not lines:  # a .json file may hold one record per line
            try:
                return _pandas_json(path, True)
            except ValueError:
                pass
        kind = "JSON Lines (one object per line)" if lines else "JSON"
        raise DataError(f"{name!r} is not valid {kind} ({_one_line(exc)}). Pass an array of "
                        "records ([{\"col\": value}, ...]) in .json, or one record per line in "
                        ".jsonl.") from exc


def _pandas_json(path: Path, lines: bool) -> pd.DataFrame:
    # dtype=False: no float->int downcasting; no date parsing (deprecated keywords in pandas 3.1+).
    opts = {"dtype": False}
    if "convert_dates" in inspect.signature(pd.read_json).parameters:
        opts.update(convert_dates=False, keep_default_dates=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*(convert_dates|keep_default_dates).*")
        return pd.read_json(path, lines=lines, **opts)


_READERS = {
    "csv": _read_csv,
    "tsv": lambda p, n: _read_csv(p, n, sep="\t"),
    "parquet": _read_parquet,
    "json": _read_json,
    "jsonl": lambda p, n: _read_json(p, n, lines=True),
}


# -- SQL ----------------------------------------------------------------------------


def _duckdb_path(db: str | None) -> str | None:
    """The DuckDB database file named by ``db`` (':memory:' when None), or None for SQLAlchemy."""
    if db is None:
        return ":memory:"
    if db.startswith("duckdb://"):
        rest = db[len("duckdb://"):]
        return (rest[1:] if rest.startswith("/") else rest) or ":memory:"
    if "://" not in db and db.lower().endswith(_DUCKDB_SUFFIXES):
        return db  # a URL such as sqlite:///x.db goes to SQLAlchemy
    return None


def _read_sql(sql: str, db: str | None) -> tuple[pd.DataFrame, str]:
    if not isinstance(db, (str, type(None))):
        raise InvalidParameterError("db must be a database file path or a SQLAlchemy URL string.")
    path = _duckdb_path(db)
    if path is not None and _is_sqlite_file(path):  # e.g. data.db written by SQLite
        return _read_sqlalchemy(sql, f"sqlite:///{Path(path).resolve()}"), "The query result"
    if path is not None:
        return _read_duckdb(sql, path), "The query result"
    return _read_sqlalchemy(sql, db), "The query result"


def _is_sqlite_file(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


def _read_duckdb(sql: str, path: str) -> pd.DataFrame:
    duckdb = import_optional("duckdb", caller="Reading SQL")
    if path != ":memory:":
        if not Path(path).is_file():
            raise DataError(f"DuckDB database file {path!r} does not exist. Check the path "
                            f"(current directory: {os.getcwd()}).")
    try:
        con = duckdb.connect(path, read_only=path != ":memory:")
    except duckdb.Error as exc:
        msg = (f"Cannot open DuckDB database {path!r} ({_one_line(exc)}). "
               "Check that it is a DuckDB file and not locked by another process.")
        raise DataError(msg) from exc
    try:
        return con.execute(sql).df().infer_objects()
    except duckdb.Error as exc:
        msg = f"The SQL query failed in DuckDB: {_one_line(exc)}. Check the query."
        raise DataError(msg) from exc
    finally:
        con.close()


def _read_sqlalchemy(sql: str, url: str) -> pd.DataFrame:
    sa = import_optional("sqlalchemy", caller="Reading from a database URL")
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError as exc:
        raise DataError(
            f"{url!r} is not a database URL or DuckDB file. Pass a .duckdb/.db file or a "
            "SQLAlchemy URL such as sqlite:///data.db or postgresql://user@host/dbname."
        ) from exc
    shown = parsed.render_as_string(hide_password=True)
    database = parsed.database
    if parsed.get_backend_name() == "sqlite" and database and database != ":memory:" \
            and not database.startswith("file:") and not Path(database).exists():
        raise DataError(f"SQLite database file {database!r} does not exist (from {shown!r}). "
                        f"Check the path (current directory: {os.getcwd()}).")
    try:
        engine = sa.create_engine(parsed)
    except sa.exc.ArgumentError as exc:
        raise DataError(f"Invalid database URL {shown!r} ({_one_line(exc)}). Check the URL, e.g. "
                        "sqlite:///relative/path.db or sqlite:////absolute/path.db.") from exc
    except ImportError as exc:
        raise DataError(f"The driver for {shown!r} is not installed ({_one_line(exc)}). Install "
                        "it, e.g. `pip install 'mlexpert[postgres]'` for PostgreSQL.") from exc
    try:
        try:
            conn = engine.connect()
        except sa.exc.SQLAlchemyError as exc:
            raise DataError(f"Cannot connect to database {shown!r} ({_db_message(exc)}). Check the "
                            "URL, the credentials and that the server is reachable.") from exc
        with conn:
            try:
                return pd.read_sql(sa.text(sql), conn).infer_objects()
            except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError) as exc:
                raise DataError(f"The SQL query failed in {shown!r}: {_db_message(exc)}. "
                                "Check the query.") from exc
    finally:
        engine.dispose()


def _db_message(exc: BaseException) -> str:
    """The database's own one-line message (pandas and SQLAlchemy wrap it)."""
    if isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return _one_line(getattr(exc, "orig", None) or exc)
