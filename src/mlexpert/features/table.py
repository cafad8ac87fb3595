"""Assemble the per-kind blocks into one preprocessor per model-family profile.

A profile says how each column kind is encoded and what the output looks like:

============ ============== ================ ============ ============ ==============
profile      numeric        categorical      high card.   text         output
============ ============== ================ ============ ============ ==============
native       raw (NaN kept) pandas category  freq. codes  TF-IDF+SVD   DataFrame
catboost     raw (NaN kept) strings          strings      TF-IDF+SVD   DataFrame
ordinal      median+flags   freq. codes      freq. codes  TF-IDF+SVD   dense array
linear       median+z-score one-hot          target enc.  TF-IDF       sparse/dense
dense        median+z-score one-hot          target enc.  TF-IDF+SVD   dense array
embedding    quantile       integer codes    int. codes   TF-IDF+SVD   dict for MLP
============ ============== ================ ============ ============ ==============

After fitting, :meth:`TablePreprocessor.output_sources` (also stored as
``output_sources_``) names the input column behind every output column, so that anything
computed per encoded column (tree SHAP values, importances) can be summed back per input.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from .categorical import CategoryBlock
from .datetime import DatetimeBlock
from .numeric import NumericBlock
from .text import TextBlock

_RAW = {"impute": False, "indicator": False, "scale": None}
_IMPUTED = {"impute": True, "indicator": True, "scale": None}
_STANDARD = {"impute": True, "indicator": True, "scale": "standard"}
_QUANTILE = {"impute": True, "indicator": True, "scale": "quantile"}

PROFILES: dict[str, dict] = {
    "native": {"numeric": _RAW, "low": "category", "high": "ordinal", "svd": 32, "output": "frame"},
    "catboost": {"numeric": _RAW, "low": "string", "high": "string", "svd": 32, "output": "frame"},
    "ordinal": {"numeric": _IMPUTED, "low": "ordinal", "high": "ordinal", "svd": 32, "output": "dense"},
    "linear": {"numeric": _STANDARD, "low": "onehot", "high": "target", "svd": 0, "output": "sparse"},
    "dense": {"numeric": _STANDARD, "low": "onehot", "high": "target", "svd": 32, "output": "dense"},
    "embedding": {"numeric": _QUANTILE, "low": "codes", "high": "codes", "svd": 32, "output": "embedding"},
}

_TARGET_TYPE = {"binary": "binary", "multiclass": "multiclass", "regression": "continuous"}


class TablePreprocessor(TransformerMixin, BaseEstimator):
    """Encode a table for one profile; fitted on training rows only (inside each CV fold).

    Parameters
    ----------
    columns : dict
        Column names by kind (``Schema`` kinds: numeric, boolean, categorical,
        high_cardinality, datetime, text).
    profile : str
        One of :data:`PROFILES`.
    task : str
        binary, multiclass or regression (for target encoding).
    """

    def __init__(self, *, columns: dict, profile: str = "native", task: str = "regression",
                 random_state: int = 0):
        self.columns = columns
        self.profile = profile
        self.task = task
        self.random_state = random_state

    def _cols(self, kind: str) -> list[str]:
        return list(self.columns.get(kind, []))

    def _numeric_frame(self, X: pd.DataFrame, fit: bool) -> pd.DataFrame:
        frame = X[self._cols("numeric") + self._cols("boolean")]
        dates = self._cols("datetime")
        if not dates:
            return frame
        if fit:
            self.datetime_ = DatetimeBlock().fit(X[dates])
        parts = pd.DataFrame(self.datetime_.transform(X[dates]), columns=self.datetime_.names_,
                             index=X.index)
        return pd.concat([frame, parts], axis=1)

    def fit(self, X: pd.DataFrame, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X: pd.DataFrame, y=None, **_):
        spec = PROFILES[self.profile]
        num = self._numeric_frame(X, fit=True)
        self.numeric_ = NumericBlock(**spec["numeric"], boolean=tuple(self._cols("boolean")))
        parts = {"numeric": self.numeric_.fit(num).transform(num)}
        self.categorical_ = {}
        for kind, mode in (("categorical", spec["low"]), ("high_cardinality", spec["high"])):
            cols = self._cols(kind)
            if cols:
                block = CategoryBlock(mode=mode, target_type=_TARGET_TYPE[self.task],
                                      random_state=self.random_state)
                parts[kind] = block.fit_transform(X[cols], y)
                self.categorical_[kind] = block
        self.text_ = None
        if self._cols("text"):
            self.text_ = TextBlock(svd_components=spec["svd"], random_state=self.random_state)
            parts["text"] = self.text_.fit(X[self._cols("text")]).transform(X[self._cols("text")])
        out = self._assemble(parts)
        self.output_sources_ = self.output_sources()
        return out

    def transform(self, X: pd.DataFrame):
        return self._assemble(self._parts(X, codes=False))

    def transform_matrix(self, X: pd.DataFrame) -> np.ndarray:
        """The ``native`` profile's frame as one float64 matrix, built directly: categorical
        columns as their codes (NaN for unseen or rare values), the other columns as the
        frame holds them (float32 values). The matrix LightGBM builds from the frame."""
        if self.profile != "native":
            raise ValueError(f"transform_matrix is for the 'native' profile, not {self.profile!r}")
        blocks = []
        for kind, part in self._parts(X, codes=True).items():
            if kind in self.categorical_ and self.categorical_[kind].mode == "category":
                blocks.append(part)
            else:
                dense = part.toarray() if sp.issparse(part) else part
                blocks.append(np.asarray(dense, dtype=np.float32).astype(np.float64))
        return np.hstack(blocks)

    def _parts(self, X: pd.DataFrame, codes: bool) -> dict:
        # Blocks read their own columns from X: no per-kind frames (pandas selections are slow).
        dates = self.datetime_.transform(X) if self._cols("datetime") else None
        names = self._cols("numeric") + self._cols("boolean")
        parts = {"numeric": self.numeric_.transform_columns(X, names, dates)}
        for kind, block in self.categorical_.items():
            parts[kind] = (block.category_codes(X) if codes and block.mode == "category"
                           else block.transform(X))
        if self.text_ is not None:
            parts["text"] = self.text_.transform(X[self._cols("text")])
        return parts

    def output_sources(self) -> list[str] | dict[str, list[str]]:
        """The input column behind each output column of this fitted preprocessor.

        Numeric and boolean columns map to themselves, datetime parts and missing-value
        flags to their column, each categorical encoding (codes, frequencies, one-hot
        levels, per-class target means) to its column, and a text column's length
        statistics, TF-IDF terms or SVD components to that text column. A list in output
        order; for the ``embedding`` profile, ``{"num": [...], "cat": [...]}`` for its two
        arrays. Computed from the fitted blocks, so it also works on preprocessors pickled
        before ``output_sources_`` existed.
        """
        numeric = self._numeric_sources()
        cats = {kind: _category_sources(block) for kind, block in self.categorical_.items()}
        text = _text_sources(self.text_, self._cols("text")) if self.text_ is not None else []
        if PROFILES[self.profile]["output"] == "embedding":
            codes = [c for kind in ("categorical", "high_cardinality") for c in cats.get(kind, [])]
            return {"num": numeric + text, "cat": codes}
        return numeric + [c for sources in cats.values() for c in sources] + text

    def _numeric_sources(self) -> list[str]:
        sources = self._cols("numeric") + self._cols("boolean")
        if self._cols("datetime"):
            parts = self.datetime_.parts_
            sources += [c for c, ps in parts.items() for _ in ps] + list(parts)
        flags = [sources[i] for i in self.numeric_.indicator_columns_]
        return sources + flags

    def _assemble(self, parts: dict):
        output = PROFILES[self.profile]["output"]
        if output == "frame":
            return self._frame(parts)
        if output == "embedding":
            codes = [parts[k] for k in ("categorical", "high_cardinality") if k in parts]
            dense = [parts["numeric"]] + ([parts["text"]] if "text" in parts else [])
            self.cardinalities_ = [c for k in ("categorical", "high_cardinality")
                                   if k in self.categorical_ for c in self.categorical_[k].cardinalities_]
            return {
                "num": np.hstack(dense).astype(np.float32),
                "cat": np.hstack(codes) if codes else np.zeros((len(parts["numeric"]), 0), np.int64),
                "cardinalities": self.cardinalities_,
            }
        blocks = list(parts.values())
        if output == "sparse" and any(sp.issparse(b) for b in blocks):
            return sp.hstack([sp.csr_matrix(b) for b in blocks], format="csr", dtype=np.float32)
        return np.hstack([b.toarray() if sp.issparse(b) else b for b in blocks]).astype(np.float32)

    def _frame(self, parts: dict) -> pd.DataFrame:
        pieces = []
        for kind, block in parts.items():
            if isinstance(block, pd.DataFrame):
                pieces.append(block.reset_index(drop=True))
            else:
                dense = block.toarray() if sp.issparse(block) else block
                pieces.append(pd.DataFrame(dense.astype(np.float32)))
        frame = pd.concat(pieces, axis=1)
        frame.columns = [f"f{i}" for i in range(frame.shape[1])]
        self.categorical_features_ = [
            name for name, dtype in frame.dtypes.items()
            if isinstance(dtype, pd.CategoricalDtype) or dtype == object or pd.api.types.is_string_dtype(dtype)
        ]
        return frame


def _category_sources(block: CategoryBlock) -> list[str]:
    """Input column of each output column of a fitted :class:`CategoryBlock`."""
    columns = list(block.columns_)
    if block.mode in ("onehot", "target"):
        # The encoders saw a bare array: their output names are "x{j}" or "x{j}_{suffix}".
        names = block.encoder_.get_feature_names_out()
        encoded = [columns[int(str(n).split("_", 1)[0][1:])] for n in names]
        return encoded + (columns if block.mode == "target" else [])
    if block.mode == "ordinal":
        return columns + columns  # codes, then frequencies
    return columns


def _text_sources(block, columns: list[str]) -> list[str]:
    """Input column of each output column of a fitted :class:`TextBlock`."""
    sources = []
    for c, vec, svd in zip(columns, block.vectorizers_, block.svds_):
        width = 2  # length statistics
        if vec is not None:
            if block.svd_components:
                width += svd.components_.shape[0] if svd is not None else 0
            else:
                width += len(vec.vocabulary_)
        sources += [c] * width
    return sources
