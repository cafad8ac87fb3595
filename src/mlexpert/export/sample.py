"""Synthetic rows for a smoke check when no real rows are given.

Built from what the fitted preprocessors remember (medians, spreads or quantiles of the
numbers, the median date, the known categories), plus missing values and an unseen
category in every column. A check on them shows the graph runs and agrees with the
Python model on plausible inputs; only real rows (``--data``) show it on your data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..features.table import PROFILES

UNSEEN = "an unseen value"


def synthetic_rows(pipeline, n: int = 256, seed: int = 0) -> pd.DataFrame:
    """``n`` rows with every feature column of ``pipeline.schema`` (10% missing each)."""
    rng = np.random.default_rng(seed)
    pp = _richest(pipeline)
    schema = pipeline.schema
    numeric = list(pp.columns.get("numeric", [])) + list(pp.columns.get("boolean", []))
    dates = list(pp.columns.get("datetime", []))
    medians = pp.numeric_.medians_
    n_parts = sum(len(p) for p in pp.datetime_.parts_.values()) if dates else 0
    columns = {}
    for info in schema.columns:
        name, kind = info.name, info.kind
        if name not in schema.features:
            continue
        if kind == "numeric":
            values = _numbers(pp, numeric.index(name), medians, rng, n)
        elif kind == "boolean":
            values = rng.choice([0.0, 1.0], n)
        elif kind == "datetime":
            day = medians[len(numeric) + n_parts + dates.index(name)]
            seconds = (day + rng.normal(0, 180, n)) * 86400.0
            values = pd.to_datetime(np.round(seconds), unit="s").to_numpy().astype(object)
        else:
            known = info.categories or _levels(pipeline, name)
            values = rng.choice(np.asarray(list(known) + [UNSEEN], dtype=object), n)
        values = np.asarray(values, dtype=object)
        values[rng.random(n) < 0.1] = None
        columns[name] = values
    frame = pd.DataFrame(columns)
    for name in schema.names("numeric", "boolean"):
        frame[name] = pd.to_numeric(frame[name])
    return frame


def _richest(pipeline):
    """A fitted preprocessor, preferring one whose numeric block knows the spread."""
    pps = list(pipeline.full_preprocessors.values()) + [p for ps in pipeline.preprocessors.values()
                                                         for p in ps]
    rank = {"quantile": 0, "standard": 1}
    return min(pps, key=lambda pp: rank.get(PROFILES[pp.profile]["numeric"]["scale"], 2))


def _numbers(pp, i: int, medians, rng, n: int) -> np.ndarray:
    block = pp.numeric_
    if block.scale == "quantile":
        return rng.choice(block.quantile_.quantiles_[:, i], n)
    if block.scale == "standard":
        return medians[i] + block.std_[i] * rng.normal(size=n)
    return medians[i] * (1 + 0.5 * rng.normal(size=n)) + rng.normal(size=n)


def _levels(pipeline, name: str) -> list[str]:
    pps = list(pipeline.full_preprocessors.values()) + [p for ps in pipeline.preprocessors.values()
                                                         for p in ps]
    for pp in pps:
        for block in pp.categorical_.values():
            if name in block.columns_:
                return [str(v) for v in block.levels_[block.columns_.index(name)]]
    return ["a value"]
