"""Learning task: inference from the target and target encoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .exceptions import DataError, InvalidParameterError

TASKS = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Task:
    """The task kind, and for classification the ordered class labels."""

    kind: str
    classes: tuple = ()

    @property
    def is_classification(self) -> bool:
        return self.kind != "regression"

    @property
    def n_classes(self) -> int:
        return len(self.classes)

    def encode(self, y: pd.Series) -> np.ndarray:
        """Target as model input: class indices (int) or float values."""
        if not self.is_classification:
            return pd.to_numeric(y, errors="raise").to_numpy(dtype=float)
        index = {c: i for i, c in enumerate(self.classes)}
        return np.array([index[v] for v in _normalise(y)], dtype=np.int64)

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """Class indices back to the original labels."""
        return np.asarray(self.classes, dtype=object)[codes]

    def to_dict(self) -> dict:
        return {"kind": self.kind, "classes": [_jsonable(c) for c in self.classes]}

    @classmethod
    def from_dict(cls, data: dict) -> "Task":
        return cls(kind=data["kind"], classes=tuple(data["classes"]))


def _jsonable(value):
    return value.item() if isinstance(value, np.generic) else value


def _normalise(y: pd.Series) -> list:
    """Labels as plain Python values (so 1 and 1.0 and np.int64(1) match)."""
    values = y.tolist()
    return [v if not isinstance(v, float) or not v.is_integer() else int(v) for v in values]


def infer_task(y: pd.Series, requested: str | None = None) -> Task:
    """Choose binary / multiclass / regression from a target without missing values."""
    if requested is not None and requested not in TASKS:
        raise InvalidParameterError(
            f"The 'task' parameter must be one of {list(TASKS)}. Got {requested!r} instead."
        )
    numeric = pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(y)
    n_unique = y.nunique()
    kind = requested
    if kind is None:
        if not numeric:
            kind = "binary" if n_unique == 2 else "multiclass"
        else:
            values = y.to_numpy(dtype=float)
            integral = np.all(np.mod(values, 1) == 0)
            if n_unique == 2:
                kind = "binary"
            elif integral and n_unique <= 10 and values.min() >= 0:
                kind = "multiclass"
            else:
                kind = "regression"
    if kind == "regression":
        if not numeric:
            raise DataError(
                f"The target {y.name!r} is not numeric, so it cannot be a regression target. "
                "Use --task binary/multiclass, or convert it to numbers."
            )
        return Task("regression")
    if n_unique < 2:
        raise DataError(
            f"The target {y.name!r} has a single class ({y.iloc[0]!r}); a classifier needs at "
            "least two. Check the target column or the rows selected."
        )
    if kind == "binary" and n_unique != 2:
        raise DataError(
            f"--task binary needs exactly 2 classes, but the target {y.name!r} has {n_unique}. "
            "Use --task multiclass."
        )
    classes = tuple(sorted(set(_normalise(y)), key=lambda v: (str(type(v)), v)))
    return Task("binary" if len(classes) == 2 else "multiclass", classes)
