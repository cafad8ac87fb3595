"""Column understanding: infer what each column is, and what to do with it.

Kinds: ``numeric``, ``boolean``, ``categorical`` (low cardinality), ``high_cardinality``,
``datetime``, ``text``; dropped kinds: ``id``, ``constant``, ``ignored``, ``leakage`` (set
by the data audit, :mod:`mlexpert.audit`).
"""

from __future__ import annotations

import re
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..exceptions import DataWarning, InvalidParameterError

FEATURE_KINDS = ("numeric", "boolean", "categorical", "high_cardinality", "datetime", "text")
DROPPED_KINDS = ("id", "constant", "ignored", "leakage")
HIGH_CARDINALITY = 30
_ID_NAME = re.compile(r"(^|[_\s.-])(id|ids|pid|uuid|guid|key|index)$|^unnamed: ?\d+$|[a-z]ID$", re.I)
_BOOL_STRINGS = {"true", "false", "yes", "no", "y", "n", "t", "f"}
_SAMPLE = 2000


@dataclass
class ColumnInfo:
    """What one column is, and why mlexpert thinks so."""

    name: str
    kind: str
    dtype: str
    n_unique: int
    missing_fraction: float
    reason: str = ""
    categories: list = field(default_factory=list)


@dataclass
class Schema:
    """The inferred (or user-fixed) kinds of every input column."""

    target: str
    columns: list[ColumnInfo]

    def names(self, *kinds: str) -> list[str]:
        """Names of the columns of the given kinds (all features when none given)."""
        wanted = kinds or FEATURE_KINDS
        return [c.name for c in self.columns if c.kind in wanted]

    @property
    def features(self) -> list[str]:
        return self.names(*FEATURE_KINDS)

    @property
    def dropped(self) -> list[ColumnInfo]:
        return [c for c in self.columns if c.kind in DROPPED_KINDS]

    def kind_of(self, name: str) -> str:
        for c in self.columns:
            if c.name == name:
                return c.kind
        raise KeyError(f"Column {name!r} is not in the schema.")

    def to_dict(self) -> dict:
        return {"target": self.target, "columns": [asdict(c) for c in self.columns]}

    @classmethod
    def from_dict(cls, data: dict) -> "Schema":
        return cls(target=data["target"], columns=[ColumnInfo(**c) for c in data["columns"]])


def infer_schema(
    df: pd.DataFrame,
    target: str,
    *,
    ignore: tuple[str, ...] = (),
    categorical: tuple[str, ...] = (),
    text: tuple[str, ...] = (),
    datetime: tuple[str, ...] = (),
    keep: tuple[str, ...] = (),
) -> Schema:
    """Infer the kind of every column except ``target``; user overrides win.

    ID-like and constant columns are marked dropped and reported with a
    :class:`DataWarning` that gives the reason.
    """
    overrides = _overrides(df, target, ignore=ignore, categorical=categorical, text=text,
                           datetime=datetime, keep=keep)
    columns = []
    for name in df.columns:
        if name == target:
            continue
        forced = overrides.get(name)
        info = _describe(df[name], forced)
        columns.append(info)
    for info in columns:
        if info.kind in ("id", "constant"):
            warnings.warn(
                f"Column {info.name!r} is dropped: {info.reason}. "
                f"Pass --keep {info.name} (keep=...) to use it anyway.",
                DataWarning, stacklevel=2,
            )
    return Schema(target=target, columns=columns)


def _overrides(df, target, **lists) -> dict[str, str]:
    forced: dict[str, str] = {}
    kind_of_option = {"ignore": "ignored", "categorical": "categorical", "text": "text",
                      "datetime": "datetime", "keep": "keep"}
    for option, names in lists.items():
        for name in names:
            if name not in df.columns:
                raise InvalidParameterError(
                    f"--{option} names column {name!r}, which is not in the data. "
                    f"Columns are: {', '.join(map(str, df.columns[:20]))}."
                )
            if name == target:
                raise InvalidParameterError(
                    f"--{option} names the target column {name!r}; the target cannot be a feature."
                )
            forced[name] = kind_of_option[option]
    return forced


def _describe(col: pd.Series, forced: str | None) -> ColumnInfo:
    non_null = col.dropna()
    n_unique = int(non_null.nunique())
    info = ColumnInfo(
        name=str(col.name), kind="numeric", dtype=str(col.dtype), n_unique=n_unique,
        missing_fraction=round(float(col.isna().mean()), 6) if len(col) else 0.0,
    )
    if forced and forced != "keep":
        info.kind, info.reason = forced, "set by the user"
    else:
        info.kind, info.reason = _infer_kind(col, non_null, n_unique, allow_drop=forced != "keep")
    if info.kind in ("categorical", "boolean"):
        info.categories = sorted(map(str, non_null.astype(str).unique()))
    return info


def _infer_kind(col: pd.Series, non_null: pd.Series, n_unique: int, allow_drop: bool):
    n = len(non_null)
    if allow_drop and n_unique <= 1:
        value = non_null.iloc[0] if n else None
        value = value.item() if isinstance(value, np.generic) else value
        what = "all missing" if n == 0 else f"it has a single value ({value!r})"
        return "constant", f"{what}, so it carries no information"
    if pd.api.types.is_bool_dtype(col):
        return "boolean", "boolean values"
    if pd.api.types.is_datetime64_any_dtype(col):
        return "datetime", "date/time values"
    if pd.api.types.is_numeric_dtype(col):
        if allow_drop and _numeric_id(col, non_null, n_unique):
            return "id", "an identifier (a distinct integer on every row)"
        return "numeric", "numbers"
    return _infer_string_kind(col, non_null.astype(str), n_unique, allow_drop)


def _numeric_id(col: pd.Series, non_null: pd.Series, n_unique: int) -> bool:
    values = non_null.to_numpy(dtype=float)
    integral = pd.api.types.is_integer_dtype(non_null.dtype) or bool(np.all(np.mod(values, 1) == 0))
    if not integral or n_unique < max(20, 0.999 * len(col)):
        return False
    if _ID_NAME.search(str(col.name)):
        return True
    return bool(np.all(np.diff(np.sort(values)) == 1))


def _infer_string_kind(col, text: pd.Series, n_unique: int, allow_drop: bool):
    sample = text.iloc[:_SAMPLE] if len(text) > _SAMPLE else text
    lowered = set(sample.str.lower().unique())
    if n_unique == 2 and lowered <= _BOOL_STRINGS:
        return "boolean", "two yes/no-like values"
    if n_unique > HIGH_CARDINALITY and _looks_like_dates(sample):
        return "datetime", "strings that parse as dates"
    words = sample.str.count(r"\s+") + 1
    unique_ratio = n_unique / max(len(text), 1)
    if words.mean() >= 3 and unique_ratio > 0.3:
        return "text", f"free text (on average {words.mean():.1f} words, {unique_ratio:.0%} distinct)"
    if allow_drop and len(text) >= 20 and unique_ratio >= 0.95 and words.max() == 1:
        return "id", f"an identifier ({unique_ratio:.0%} of values are distinct single tokens)"
    if n_unique > HIGH_CARDINALITY:
        return "high_cardinality", f"{n_unique} distinct categories"
    return "categorical", f"{n_unique} distinct categories"


def _looks_like_dates(sample: pd.Series) -> bool:
    if sample.str.fullmatch(r"[+-]?\d+(\.\d+)?").mean() > 0.5:
        return False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = pd.to_datetime(sample, errors="coerce", format="mixed")
    return bool(parsed.notna().mean() >= 0.9)
