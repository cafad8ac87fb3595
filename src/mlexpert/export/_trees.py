"""Decision trees of any library as one ONNX ``TreeEnsemble`` (ai.onnx.ml opset 5).

Converters describe their trees with a :class:`TreeBuilder` (splits and leaves; a split is
used by one parent only: onnxruntime refuses shared nodes); :meth:`TreeBuilder.emit` writes
a single node that computes in double precision: thresholds are kept exactly as the libraries store them (LightGBM and
scikit-learn thresholds are doubles), and category sets become ``BRANCH_MEMBER`` splits.
"""

from __future__ import annotations

import numpy as np

MODES = {"leq": 0, "lt": 1, "gte": 2, "gt": 3, "eq": 4, "neq": 5, "member": 6}


class TreeBuilder:
    """Collects trees as flat node lists; ids < 0 are leaves, ids >= 0 are splits."""

    def __init__(self, n_targets: int = 1):
        self.n_targets = n_targets
        self.roots: list[int] = []
        self.feature: list[int] = []
        self.mode: list[int] = []
        self.value: list[float] = []
        self.members: list[tuple] = []
        self.true: list[int] = []
        self.false: list[int] = []
        self.missing_true: list[int] = []
        self.leaf_weight: list[float] = []
        self.leaf_target: list[int] = []

    def leaf(self, weight: float, target: int = 0) -> int:
        self.leaf_weight.append(float(weight))
        self.leaf_target.append(int(target))
        return -len(self.leaf_weight)

    def split(self, feature: int, mode: str, value=0.0, *, missing_true: bool = False,
              true: int = 0, false: int = 0) -> int:
        """A split node; ``value`` is a threshold, or a collection of members for "member".
        Children may be given now or later with :meth:`link`."""
        self.feature.append(int(feature))
        self.mode.append(MODES[mode])
        if mode == "member":
            self.members.append(tuple(float(v) for v in value))
            value = 0.0
        self.value.append(float(value))
        self.true.append(true)
        self.false.append(false)
        self.missing_true.append(int(bool(missing_true)))
        return len(self.feature) - 1

    def link(self, node: int, true: int, false: int) -> None:
        self.true[node], self.false[node] = true, false

    def add_tree(self, root: int) -> None:
        """Mark ``root`` as the root of a tree (a leaf root becomes a trivial split)."""
        if root < 0:
            root = self.split(0, "leq", 0.0, true=root, false=root)
        self.roots.append(root)

    @property
    def size(self) -> int:
        return len(self.feature) + len(self.leaf_weight)

    def emit(self, g, x: str, hint: str = "trees") -> str:
        """One TreeEnsemble node on double ``x`` (n, features): sums per target, (n, n_targets)."""
        if not self.roots:
            raise ValueError("no trees to emit")
        true, false = np.asarray(self.true), np.asarray(self.false)
        attrs = dict(
            n_targets=self.n_targets, aggregate_function=1, post_transform=0,
            tree_roots=self.roots, nodes_featureids=self.feature,
            nodes_modes=g.tensor(np.asarray(self.mode, dtype=np.uint8)),
            nodes_splits=g.tensor(np.asarray(self.value, dtype=np.float64)),
            nodes_truenodeids=np.where(true < 0, -true - 1, true).tolist(),
            nodes_trueleafs=(true < 0).astype(int).tolist(),
            nodes_falsenodeids=np.where(false < 0, -false - 1, false).tolist(),
            nodes_falseleafs=(false < 0).astype(int).tolist(),
            nodes_missing_value_tracks_true=self.missing_true,
            leaf_targetids=self.leaf_target,
            leaf_weights=g.tensor(np.asarray(self.leaf_weight, dtype=np.float64)),
        )
        if self.members:
            values = [v for s in self.members for v in (*s, np.nan)]
            attrs["membership_values"] = g.tensor(np.asarray(values, dtype=np.float64))
        return g.op("TreeEnsemble", x, domain="ai.onnx.ml", hint=hint, **attrs)


def step_counts(g, x: str, knots: list[np.ndarray], *, strict: bool) -> str:
    """Per column j of double ``x`` (n, d): how many of ``knots[j]`` are <= x (or < x when
    ``strict``), as doubles (n, d). A balanced search tree per column: O(log k) per value."""
    builder = TreeBuilder(n_targets=len(knots))
    mode = "gt" if strict else "gte"
    for j, values in enumerate(knots):
        distinct = np.unique(np.asarray(values, dtype=np.float64))
        # knots <= distinct[i]: also the count of knots < x for x just above distinct[i]
        cumulative = np.searchsorted(np.sort(values), distinct, side="right")
        builder.add_tree(_search(builder, j, distinct, cumulative, mode, -1, len(distinct) - 1))
    return builder.emit(g, x, hint="counts")


def _search(b: TreeBuilder, j: int, knots, cumulative, mode: str, lo: int, hi: int) -> int:
    """Subtree finding a, the last knot passed by x (x >= knot, or x > knot), in [lo, hi]."""
    if lo == hi:
        return b.leaf(float(cumulative[lo]) if lo >= 0 else 0.0, j)
    mid = (lo + hi + 1) // 2
    passed = _search(b, j, knots, cumulative, mode, mid, hi)
    before = _search(b, j, knots, cumulative, mode, lo, mid - 1)
    return b.split(j, mode, knots[mid], true=passed, false=before)


def preorder(left: list[int], right: list[int]) -> list[int]:
    """Node indices reachable from the root, each before its children."""
    order, stack = [], [0]
    while stack:
        i = stack.pop()
        order.append(i)
        if left[i] != -1:
            stack += [right[i], left[i]]
    return order
