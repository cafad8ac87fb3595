"""Exact SHAP values of the ensemble's tree members, from the libraries' own TreeSHAP.

LightGBM (``pred_contrib``), XGBoost (``pred_contribs``) and CatBoost (``ShapValues``)
each explain a model's raw margin over its encoded columns. Here those contributions are
summed back into the user's columns (:meth:`TablePreprocessor.output_sources`: datetime
parts, text components and the like add up into their column), averaged over fold models,
and combined across the tree members with their ensemble weights renormalised over the
tree members. The combined values therefore explain the weighted mean of the members' raw
margins, not the ensemble's averaged probabilities (which have no exact additive form);
``coverage`` says how much of the ensemble's weight they stand for.

Spaces: ``"log-odds"`` of ``task.classes[1]`` (binary), ``"raw score per class"``
(multiclass, softmax of the scores gives the member's probabilities), ``"value"``
(regression, the predicted value itself).
"""

from __future__ import annotations

import time

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.validate import prepare_prediction_table
from ..models.registry import get_family
from ..utils._optional import import_optional

TREE_FAMILIES = ("lightgbm", "xgboost", "catboost")
_SPACE = {"binary": "log-odds", "multiclass": "raw score per class", "regression": "value"}


@dataclass
class ShapResult:
    """SHAP values per input column, with their base values.

    Attributes
    ----------
    values : ndarray
        (n, n_cols), or (n, k, n_cols) for multiclass.
    base : ndarray
        Expected value per row: (n,), or (n, k) for multiclass. ``base + values.sum(-1)``
        is the explained margin.
    columns : list of str
        The input columns, in schema feature order.
    space : str
        ``"log-odds"``, ``"raw score per class"`` or ``"value"``.
    members : list of str
        Names of the ensemble members explained.
    coverage : float
        Their share of the ensemble's total weight (1.0 when every member is a tree model).
    classes : tuple
        Class labels (classification); the binary positive class is ``classes[1]``.
    data : DataFrame
        The explained rows (after the pipeline's input checks), for feature values.
    """

    values: np.ndarray
    base: np.ndarray
    columns: list[str]
    space: str
    members: list[str]
    coverage: float
    classes: tuple = ()
    data: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def multiclass(self) -> bool:
        return self.values.ndim == 3

    def margin(self) -> np.ndarray:
        """The explained raw prediction: (n,) or (n, k)."""
        return self.base + self.values.sum(axis=-1)

    def global_importance(self) -> list[dict]:
        """Mean absolute SHAP value per column (summed over classes), largest first."""
        mean_abs = np.abs(self.values).mean(axis=0)
        if self.multiclass:
            mean_abs = mean_abs.sum(axis=0)
        order = np.argsort(-mean_abs, kind="stable")
        return [{"feature": self.columns[j], "mean_abs": float(mean_abs[j])} for j in order]

    def explain_row(self, i: int, top: int = 10, cls=None) -> dict:
        """One prediction: its base, margin and largest contributions.

        Parameters
        ----------
        i : int
            Row position in the explained data.
        top : int
            How many contributions to list (largest absolute first); the others are
            summed into ``"rest"``, so ``base + sum(contributions) + rest == margin``.
        cls : class label or int, optional
            Multiclass only: the class to explain (a label of ``classes``, or its index).
            Defaults to the class with the highest explained raw score.
        """
        values, base, label = self.values[i], self.base[i], None
        if self.multiclass:
            k = self._class_index(cls, i)
            values, base, label = values[k], base[k], self.classes[k]
        elif self.space == "log-odds" and len(self.classes) == 2:
            label = self.classes[1]
        order = np.argsort(-np.abs(values), kind="stable")[:max(int(top), 0)]
        row = self.data.iloc[i] if self.data is not None else {}
        contributions = [
            {"feature": self.columns[j], "value": _plain(row.get(self.columns[j])),
             "contribution": float(values[j])}
            for j in order
        ]
        shown = float(values[order].sum()) if len(order) else 0.0
        return {"row": int(i), "space": self.space, "class": _plain(label), "base": float(base),
                "margin": float(base + values.sum()), "contributions": contributions,
                "rest": float(values.sum()) - shown}

    def _class_index(self, cls, i: int) -> int:
        if cls is None:
            return int(np.argmax(self.margin()[i]))
        labels = [str(c) for c in self.classes]
        if str(cls) in labels:
            return labels.index(str(cls))
        if isinstance(cls, (int, np.integer)) and 0 <= cls < len(self.classes):
            return int(cls)
        raise ValueError(f"Class {cls!r} is not one of this model's classes {list(self.classes)}.")


def shap_values(pipeline, X: pd.DataFrame, deadline: float | None = None) -> ShapResult | None:
    """Exact TreeSHAP values of the pipeline's tree members on ``X``; None without any.

    Parameters
    ----------
    pipeline : FittedPipeline
    X : DataFrame
        Rows to explain (the same columns as for ``predict``; extra ones are ignored).
    deadline : float, optional
        A :func:`time.monotonic` value: members are explained heaviest first, and once it
        has passed no further member (nor further fold model of a member) is started; the
        explained members' share of the ensemble is the result's ``coverage``.
    """
    members = sorted((m for m in pipeline.members if m.family in TREE_FAMILIES),
                     key=lambda m: -m.weight)
    if not members:
        return None
    X = prepare_prediction_table(X, pipeline.schema)
    cache: dict = {}
    done, parts = [], []  # members not started by the deadline are left out of the weights
    for member in members:
        if done and deadline is not None and time.monotonic() > deadline:
            break
        parts.append(member_shap(pipeline, member, X, cache=cache, deadline=deadline))
        done.append(member)
    members = done
    tree_weight = sum(m.weight for m in members)
    total_weight = sum(m.weight for m in pipeline.members)
    values = base = None
    for member, (v, b) in zip(members, parts):
        share = member.weight / tree_weight if tree_weight > 0 else 1.0 / len(members)
        values = share * v if values is None else values + share * v
        base = share * b if base is None else base + share * b
    if pipeline.task.kind != "multiclass":
        values, base = values[:, 0, :], base[:, 0]
    return ShapResult(
        values=values, base=base, columns=list(pipeline.schema.features),
        space=_SPACE[pipeline.task.kind], members=[m.name for m in members],
        coverage=tree_weight / total_weight if total_weight > 0 else 1.0,
        classes=tuple(pipeline.task.classes), data=X,
    )


def member_shap(pipeline, member, X: pd.DataFrame, cache: dict | None = None,
                deadline: float | None = None):
    """One tree member's SHAP values per input column, averaged over its models (over
    those explained before ``deadline``, at least one).

    ``X`` must already have passed ``prepare_prediction_table``. Returns ``values``
    (n, k, n_cols) and ``base`` (n, k), with k = 1 unless multiclass.
    """
    columns = list(pipeline.schema.features)
    index = {c: j for j, c in enumerate(columns)}
    values = base = 0.0
    n_models = 0
    for model, pp, encoded in _models(pipeline, member, X, cache):
        if n_models and deadline is not None and time.monotonic() > deadline:
            break
        n_models += 1
        contribs = _contributions(member.family, model, encoded, pipeline.task)
        sources = pp.output_sources()
        if len(sources) != contribs.shape[2] - 1:
            raise ValueError(f"Member {member.name!r} explains {contribs.shape[2] - 1} encoded "
                             f"columns but its preprocessor outputs {len(sources)}.")
        to_input = np.zeros((len(sources), len(columns)))
        to_input[np.arange(len(sources)), [index[s] for s in sources]] = 1.0
        values = values + contribs[:, :, :-1] @ to_input
        base = base + contribs[:, :, -1]
    return values / n_models, base / n_models


def member_margin(pipeline, member, X: pd.DataFrame) -> np.ndarray:
    """One member's raw margin (n, k) from the library's own prediction, averaged over
    its models: what :func:`member_shap` values add up to."""
    margins = [_margin(member.family, model, encoded, pipeline.task)
               for model, _, encoded in _models(pipeline, member, X, None)]
    return np.mean(margins, axis=0)


def _models(pipeline, member, X: pd.DataFrame, cache: dict | None):
    """(model, preprocessor, encoded X) for each model of a member."""
    profile = get_family(member.family).profile
    pps = ([pipeline.full_preprocessors[profile]] if member.refit
           else pipeline.preprocessors[profile])
    key = (profile, member.refit)
    if cache is not None and key in cache:
        encoded = cache[key]
    else:
        encoded = [pp.transform(X) for pp in pps]
        if cache is not None:
            cache[key] = encoded
    return list(zip(member.models, pps, encoded))


def _contributions(family: str, model, X, task) -> np.ndarray:
    """TreeSHAP contributions (n, k, n_encoded + 1), the bias last."""
    n_classes = task.n_classes if task.kind == "multiclass" else 1
    if family == "lightgbm":
        out = model.predict(X, pred_contrib=True, num_threads=_n_threads())
    elif family == "xgboost":
        data, iteration_range = _xgboost_input(model, X)
        with _xgboost_threads(model):
            out = model.predict(data, pred_contribs=True, iteration_range=iteration_range)
    else:
        out = model.get_feature_importance(_catboost_pool(model, X), type="ShapValues",
                                           thread_count=_n_threads())
        if out.ndim == 3 and out.shape[1] != n_classes:
            out = _spread_classes(out, model.classes_, n_classes, axis=1)
    out = np.asarray(out, dtype=float)
    if out.ndim == 2:
        out = out.reshape(len(out), n_classes, -1)  # LightGBM multiclass: classes side by side
    return out


def _margin(family: str, model, X, task) -> np.ndarray:
    """The model's raw prediction (n, k): log-odds, class scores or values."""
    if family == "lightgbm":
        out = model.predict(X, raw_score=True)
    elif family == "xgboost":
        data, iteration_range = _xgboost_input(model, X)
        out = model.predict(data, output_margin=True, iteration_range=iteration_range)
    else:
        out = model.predict(_catboost_pool(model, X), prediction_type="RawFormulaVal")
        if np.ndim(out) == 2 and out.shape[1] != task.n_classes:
            out = _spread_classes(out, model.classes_, task.n_classes, axis=1)
    out = np.asarray(out, dtype=float)
    return out.reshape(len(out), -1)


def _xgboost_input(model, X):
    """The DMatrix and the iteration range ``XGBoostFamily.predict`` uses."""
    from ..models.xgboost import dmatrix

    xgb = import_optional("xgboost", caller="tree SHAP")
    best = model.attr("best_iteration")
    iteration_range = (0, int(best) + 1) if best is not None else (0, 0)
    return dmatrix(xgb, X), iteration_range


@contextmanager
def _xgboost_threads(model):
    """Predict with every core: boosters keep the thread count of their (parallel) fit."""
    config = json.loads(model.save_config()).get("learner", {})
    before = config.get("generic_param", {}).get("nthread")
    model.set_param({"nthread": _n_threads()})
    try:
        yield
    finally:
        if before is not None:
            model.set_param({"nthread": int(before)})


def _n_threads() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _catboost_pool(model, X):
    from ..models.catboost import _clean  # the exact input cleaning used to predict

    cb = import_optional("catboost", caller="tree SHAP")
    X, cats = _clean(X)
    return cb.Pool(X, cat_features=cats)


def _spread_classes(out: np.ndarray, present, n_classes: int, axis: int) -> np.ndarray:
    """Place the classes a fold model knows into all ``n_classes`` slots (others zero)."""
    shape = list(out.shape)
    shape[axis] = n_classes
    full = np.zeros(shape)
    index = [slice(None)] * out.ndim
    index[axis] = np.asarray(present, dtype=int)
    full[tuple(index)] = out
    return full


def _plain(value):
    """A JSON-friendly scalar (None for missing)."""
    if value is None or (np.ndim(value) == 0 and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    return value
