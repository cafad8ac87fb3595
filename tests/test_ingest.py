"""read_table: every supported source, and a one-line DataError for every failure."""

from __future__ import annotations

import gzip
import os
import sqlite3

import duckdb
import pandas as pd
import pyarrow as pa
import pytest

from mlexpert.data.ingest import read_table
from mlexpert.exceptions import DataError, InvalidParameterError

FRAME = pd.DataFrame({"age": [22.0, 38.0, 26.0], "sex": ["m", "f", "f"], "survived": [0, 1, 1]})


def _same(df: pd.DataFrame) -> None:
    assert list(df.columns) == ["age", "sex", "survived"]
    assert df["age"].tolist() == [22.0, 38.0, 26.0]
    assert df["sex"].tolist() == ["m", "f", "f"]
    assert df["survived"].tolist() == [0, 1, 1]
    assert pd.api.types.is_float_dtype(df["age"])
    assert pd.api.types.is_integer_dtype(df["survived"])
    assert pd.api.types.is_string_dtype(df["sex"])
    assert isinstance(df.index, pd.RangeIndex)


def _one_line_error(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# -- formats ------------------------------------------------------------------------


def test_csv(tmp_path):
    FRAME.to_csv(tmp_path / "d.csv", index=False)
    _same(read_table(tmp_path / "d.csv"))
    _same(read_table(str(tmp_path / "d.csv")))


def test_csv_gzip(tmp_path):
    with gzip.open(tmp_path / "d.csv.gz", "wt") as fh:
        FRAME.to_csv(fh, index=False)
    _same(read_table(tmp_path / "d.csv.gz"))


def test_tsv_and_tsv_gzip(tmp_path):
    FRAME.to_csv(tmp_path / "d.tsv", sep="\t", index=False)
    _same(read_table(tmp_path / "d.tsv"))
    FRAME.to_csv(tmp_path / "d.tsv.gz", sep="\t", index=False)
    _same(read_table(tmp_path / "d.tsv.gz"))


def test_csv_trailing_delimiters_do_not_become_an_index(tmp_path):
    (tmp_path / "d.csv").write_text("a,b\n1,2,\n3,4,\n")
    df = read_table(tmp_path / "d.csv")
    assert list(df.columns) == ["a", "b"] and df["a"].tolist() == [1, 3]


def test_dates_are_not_parsed(tmp_path):
    (tmp_path / "d.csv").write_text("created_at,x\n2024-01-01,1\n2024-02-01,2\n")
    assert not pd.api.types.is_datetime64_any_dtype(read_table(tmp_path / "d.csv")["created_at"])
    (tmp_path / "d.json").write_text('[{"created_at": "2024-01-01", "x": 1}]')
    assert not pd.api.types.is_datetime64_any_dtype(read_table(tmp_path / "d.json")["created_at"])


def test_parquet(tmp_path):
    FRAME.to_parquet(tmp_path / "d.parquet", index=False)
    _same(read_table(tmp_path / "d.parquet"))
    FRAME.to_parquet(tmp_path / "d.pq", index=False)
    _same(read_table(tmp_path / "d.pq"))


def test_json_records(tmp_path):
    FRAME.to_json(tmp_path / "d.json", orient="records")
    _same(read_table(tmp_path / "d.json"))


def test_jsonl_and_ndjson(tmp_path):
    FRAME.to_json(tmp_path / "d.jsonl", orient="records", lines=True)
    _same(read_table(tmp_path / "d.jsonl"))
    FRAME.to_json(tmp_path / "d.ndjson", orient="records", lines=True)
    _same(read_table(tmp_path / "d.ndjson"))


def test_json_lines_in_a_json_file(tmp_path):
    FRAME.to_json(tmp_path / "d.json", orient="records", lines=True)
    _same(read_table(tmp_path / "d.json"))


def test_dataframe_is_copied_with_fresh_index():
    source = FRAME.set_axis([10, 20, 30])
    df = read_table(source)
    _same(df)
    df.loc[0, "age"] = -1.0
    assert source["age"].tolist() == [22.0, 38.0, 26.0]


def test_dataframe_column_names_become_strings():
    df = read_table(pd.DataFrame({0: [1, 2], "b": [3, 4]}))
    assert list(df.columns) == ["0", "b"]


def test_pyarrow_table():
    _same(read_table(pa.Table.from_pandas(FRAME, preserve_index=False)))


def test_unsupported_source_type():
    with pytest.raises(InvalidParameterError, match="Cannot read data from a list"):
        read_table([1, 2, 3])


# -- SQL ----------------------------------------------------------------------------


def test_duckdb_in_memory_queries_a_parquet_file(tmp_path):
    path = tmp_path / "d.parquet"
    FRAME.to_parquet(path, index=False)
    df = read_table(sql=f"SELECT * FROM '{path}' ORDER BY age")
    assert df["age"].tolist() == [22.0, 26.0, 38.0]
    assert pd.api.types.is_string_dtype(df["sex"])


def test_duckdb_file(tmp_path):
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE passengers AS SELECT * FROM FRAME")
    con.close()
    _same(read_table(sql="SELECT * FROM passengers", db=str(path)))
    _same(read_table(sql="SELECT * FROM passengers", db=f"duckdb:///{path}"))


def _sqlite(tmp_path):
    path = tmp_path / "data.db"
    with sqlite3.connect(path) as con:
        FRAME.to_sql("passengers", con, index=False)
    return path


def test_sqlite_url(tmp_path):
    path = _sqlite(tmp_path)
    _same(read_table(sql="SELECT * FROM passengers", db=f"sqlite:///{path}"))


def test_sqlite_file_path_is_read_with_sqlite(tmp_path):
    path = _sqlite(tmp_path)
    _same(read_table(sql="SELECT * FROM passengers", db=str(path)))


def test_invalid_duckdb_file(tmp_path):
    (tmp_path / "junk.duckdb").write_text("x" * 100)
    with pytest.raises(DataError, match=r"^Cannot open DuckDB database .*junk.duckdb' \(.+\)\. "
                       r"Check that it is a DuckDB file"):
        read_table(sql="SELECT 1", db=str(tmp_path / "junk.duckdb"))


def test_source_and_sql_together():
    with pytest.raises(InvalidParameterError, match="not both"):
        read_table(FRAME, sql="SELECT 1")


def test_duckdb_sql_error():
    with pytest.raises(DataError, match=r"^The SQL query failed in DuckDB: Catalog Error: "
                       r"Table with name nope does not exist!\. Check the query\.$") as exc:
        read_table(sql="SELECT * FROM nope")
    _one_line_error(exc)


def test_duckdb_query_with_no_rows():
    with pytest.raises(DataError, match="^The query result has no rows"):
        read_table(sql="SELECT 1 AS a WHERE false")


def test_missing_duckdb_file(tmp_path):
    with pytest.raises(DataError, match="DuckDB database file .*nope.duckdb' does not exist"):
        read_table(sql="SELECT 1", db=str(tmp_path / "nope.duckdb"))


def test_sqlite_sql_error(tmp_path):
    path = _sqlite(tmp_path)
    with pytest.raises(DataError, match=r"The SQL query failed in 'sqlite:///.*': "
                       r"no such table: nope\. Check the query\.$") as exc:
        read_table(sql="SELECT * FROM nope", db=f"sqlite:///{path}")
    _one_line_error(exc)


def test_missing_sqlite_file_is_not_created(tmp_path):
    path = tmp_path / "missing.sqlite"
    with pytest.raises(DataError, match="SQLite database file .*missing.sqlite' does not exist"):
        read_table(sql="SELECT 1", db=f"sqlite:///{path}")
    assert not path.exists()


def test_unreachable_database(tmp_path):
    # A directory cannot be opened as an SQLite database: a real connection failure.
    with pytest.raises(DataError, match=r"^Cannot connect to database 'sqlite:///.*' "
                       r"\(unable to open database file\)\. Check the URL") as exc:
        read_table(sql="SELECT 1", db=f"sqlite:///{tmp_path}")
    _one_line_error(exc)


def test_database_url_password_is_hidden():
    # No PostgreSQL driver is installed here, or no server listens on port 1: either way
    # the message names the URL with the password masked.
    with pytest.raises(DataError, match=r"'postgresql://user:\*\*\*@127\.0\.0\.1:1/db'") as exc:
        read_table(sql="SELECT 1", db="postgresql://user:s3cret@127.0.0.1:1/db")
    assert "s3cret" not in _one_line_error(exc)


def test_invalid_sqlite_url(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    sqlite3.connect("x.db").close()
    with pytest.raises(DataError, match=r"^Invalid database URL 'sqlite://u:\*\*\*@/x.db' "
                       r"\(Invalid SQLite URL"):
        read_table(sql="SELECT 1", db="sqlite://u:pw@/x.db")


def test_not_a_database_url():
    with pytest.raises(DataError, match="'nonsense' is not a database URL or DuckDB file"):
        read_table(sql="SELECT 1", db="nonsense")


# -- file errors --------------------------------------------------------------------


def test_missing_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataError, match=r"^Data file 'x.csv' does not exist\. Check the path "
                       r"\(current directory: .+\)\.$"):
        read_table("x.csv")


def test_directory(tmp_path):
    with pytest.raises(DataError, match="is a directory, not a data file. Pass a file inside it"):
        read_table(tmp_path)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root can read any file")
def test_unreadable_file(tmp_path):
    path = tmp_path / "d.csv"
    FRAME.to_csv(path, index=False)
    path.chmod(0)
    try:
        with pytest.raises(DataError, match="Cannot read .*d.csv': permission denied"):
            read_table(path)
    finally:
        path.chmod(0o600)


def test_unknown_extension(tmp_path):
    (tmp_path / "d.xlsx").write_bytes(b"PK")
    with pytest.raises(DataError, match=r"d.xlsx': unsupported file type\. Supported: \.csv, "
                       r"\.tsv, \.parquet, \.pq, \.json, \.jsonl, \.ndjson \(optionally compressed"):
        read_table(tmp_path / "d.xlsx")


def test_corrupt_parquet(tmp_path):
    (tmp_path / "x.parquet").write_bytes(b"this is not parquet at all")
    with pytest.raises(DataError, match=r"x.parquet' is not a valid Parquet file \(.+\)\. "
                       r"Re-export it, or pass a CSV\.$") as exc:
        read_table(tmp_path / "x.parquet")
    _one_line_error(exc)


def test_malformed_csv(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2\n1,2,3\n4,5\n")
    with pytest.raises(DataError, match=r"x.csv' is not a well-formed CSV file \(.*Expected 2 "
                       r"fields in line 3, saw 3\)\. Check the delimiter and quoting") as exc:
        read_table(tmp_path / "x.csv")
    _one_line_error(exc)


def test_csv_rows_with_an_extra_field_everywhere(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n1,2,3\n4,5,6\n")
    with pytest.raises(DataError, match="is not a well-formed CSV file"):
        read_table(tmp_path / "x.csv")


def test_corrupt_gzip(tmp_path):
    (tmp_path / "x.csv.gz").write_bytes(b"not gzip data")
    with pytest.raises(DataError, match=r"Cannot read .*x.csv.gz' \(.+\)\. Check that the file "
                       r"is not truncated"):
        read_table(tmp_path / "x.csv.gz")


def test_malformed_json(tmp_path):
    (tmp_path / "x.json").write_text('[{"a": 1},')
    with pytest.raises(DataError, match=r"x.json' is not valid JSON \(.+\)\. Pass an array of "
                       r"records") as exc:
        read_table(tmp_path / "x.json")
    _one_line_error(exc)


def test_malformed_jsonl(tmp_path):
    (tmp_path / "x.jsonl").write_text('{"a": 1}\n{"a": \n')
    with pytest.raises(DataError, match=r"x.jsonl' is not valid JSON Lines"):
        read_table(tmp_path / "x.jsonl")


def test_not_utf8(tmp_path):
    (tmp_path / "x.csv").write_bytes("name\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="is not UTF-8 text .* Re-save it as UTF-8"):
        read_table(tmp_path / "x.csv")


@pytest.mark.parametrize("name", ["x.csv", "x.json", "x.parquet", "x.jsonl"])
def test_empty_file(tmp_path, name):
    (tmp_path / name).write_bytes(b"")
    with pytest.raises(DataError, match=r"is empty: it has no rows"):
        read_table(tmp_path / name)


def test_header_only_csv(tmp_path):
    (tmp_path / "x.csv").write_text("a,b\n")
    with pytest.raises(DataError, match=r"^'.*x.csv' has no rows\. Pass a table with at least"):
        read_table(tmp_path / "x.csv")


def test_blank_csv(tmp_path):
    (tmp_path / "x.csv").write_text("\n\n")
    with pytest.raises(DataError, match=r"x.csv' has no rows \(and no header\)"):
        read_table(tmp_path / "x.csv")


def test_empty_json_array(tmp_path):
    (tmp_path / "x.json").write_text("[]")
    with pytest.raises(DataError, match=r"x.json' has no rows"):
        read_table(tmp_path / "x.json")


def test_parquet_with_no_rows(tmp_path):
    FRAME.iloc[:0].to_parquet(tmp_path / "x.parquet")
    with pytest.raises(DataError, match=r"x.parquet' has no rows"):
        read_table(tmp_path / "x.parquet")


def test_empty_dataframe_and_no_columns():
    with pytest.raises(DataError, match="^The DataFrame has no rows"):
        read_table(pd.DataFrame({"a": []}))
    with pytest.raises(DataError, match="^The DataFrame has no columns. Pass a table with"):
        read_table(pd.DataFrame(index=range(3)))


def test_json_records_without_columns(tmp_path):
    (tmp_path / "x.json").write_text("[{}, {}]")
    with pytest.raises(DataError, match=r"has no (rows|columns)"):
        read_table(tmp_path / "x.json")


# -- duplicate column names ---------------------------------------------------------


def test_duplicate_csv_header(tmp_path):
    (tmp_path / "x.csv").write_text("a,b,a\n1,2,3\n")
    with pytest.raises(DataError, match=r"^Column names must be unique; 'a' appears 2 times\. "
                       r"Rename the duplicates\.$"):
        read_table(tmp_path / "x.csv")


def test_csv_names_that_look_mangled_are_fine(tmp_path):
    (tmp_path / "x.csv").write_text("a,a.1,v1.0\n1,2,3\n")
    assert list(read_table(tmp_path / "x.csv").columns) == ["a", "a.1", "v1.0"]


def test_duplicate_dataframe_columns():
    df = pd.DataFrame([[1, 2, 3]], columns=["x", "x", "x"])
    with pytest.raises(DataError, match="'x' appears 3 times"):
        read_table(df)


def test_duplicates_after_string_conversion():
    df = pd.DataFrame([[1, 2]], columns=[1, "1"])
    with pytest.raises(DataError, match="'1' appears 2 times"):
        read_table(df)
