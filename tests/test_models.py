"""Every registered model family passes the shared family contract."""

import numpy as np
import pytest

from mlexpert.models.registry import all_families, get_family
from mlexpert.testing import check_model_family

FAMILIES = list(all_families())


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
@pytest.mark.parametrize("key", FAMILIES)
def test_family_contract(key, task):
    family = get_family(key)
    for module in family.requires:
        pytest.importorskip(module)
    if task not in family.tasks:
        pytest.skip(f"{key} does not support {task}")
    check_model_family(family, task)


def test_registry_lists_every_family_and_rejects_duplicates():
    assert set(FAMILIES) >= {"lightgbm", "catboost", "xgboost", "linear", "random_forest",
                             "extra_trees", "knn", "mlp"}
    from mlexpert.models.registry import register

    clash = type("Clash", (all_families()["linear"],), {"key": "linear"})
    with pytest.raises(ValueError, match="key 'linear' is already used"):
        register(clash)


@pytest.mark.parametrize("key", FAMILIES)
def test_family_fits_in_parallel_threads(key):
    """The search fits folds side by side in threads: a family must allow it, unchanged."""
    import time
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np

    from mlexpert.models._base import FitContext
    from mlexpert.testing import toy_problem

    family = get_family(key)
    for module in family.requires:
        pytest.importorskip(module)
    Xtr, ytr, Xva, yva = toy_problem("binary", family.profile)
    params = family.default_configs("binary", len(ytr), 10)[0]

    def fit(seed):
        ctx = FitContext("binary", 2, 1, seed, time.monotonic() + 60)
        return family.predict(family.fit(Xtr, ytr, params, ctx, Xva, yva), Xva, "binary")

    with ThreadPoolExecutor(2) as pool:
        together = list(pool.map(fit, [0, 1]))
    np.testing.assert_allclose(together[0], fit(0), rtol=1e-6, atol=1e-8)


def test_lightgbm_keeps_a_lean_booster_cut_at_the_best_iteration():
    import time

    import pandas as pd

    from mlexpert.models._base import FitContext
    from mlexpert.models.registry import get_family

    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=600), "c": pd.Categorical(rng.choice(list("xyz"), 600))})
    y = ((X["a"] + (X["c"] == "x")) > 0.5).astype(int).to_numpy()
    family = get_family("lightgbm")
    ctx = FitContext("binary", 2, 1, 0, time.monotonic() + 60)
    model = family.fit(X[:400], y[:400], {"learning_rate": 0.1}, ctx, X[400:], y[400:])
    iterations = family.describe(model)["iterations"]
    assert 1 <= iterations == model.current_iteration() < 10_000  # no rounds past the best
    assert getattr(model, "train_set", None) is None  # no training data held
    p = family.predict(model, X[400:], "binary")[:, 1]
    assert ((p > 0.5) == y[400:]).mean() > 0.9


def test_xgboost_reads_a_frame_without_categories_as_one_matrix_with_the_same_results():
    """The float32-matrix DMatrix (no categorical columns) trains and predicts exactly as the
    frame would; a frame with categories still goes through xgboost's frame reader."""
    import time

    import pandas as pd

    xgb = pytest.importorskip("xgboost")
    from mlexpert.models._base import FitContext
    from mlexpert.models._base import as_probabilities
    from mlexpert.models.xgboost import dmatrix
    from mlexpert.testing import toy_problem

    family = get_family("xgboost")
    Xtr, ytr, Xva, yva = toy_problem("multiclass", family.profile)
    numeric = [c for c in Xtr.columns if Xtr[c].dtype.kind == "f"]
    Xtr, Xva = Xtr[numeric].astype(np.float32), Xva[numeric].astype(np.float32)
    assert dmatrix(xgb, Xva).num_col() == len(numeric)
    params = family.default_configs("multiclass", len(ytr), len(numeric))[0]
    ctx = FitContext("multiclass", int(ytr.max()) + 1, 1, 0, time.monotonic() + 60)
    model = family.fit(Xtr, ytr, params, ctx, Xva, yva)
    ours = family.predict(model, Xva, "multiclass")
    frame = model.predict(xgb.DMatrix(Xva, enable_categorical=True),
                          iteration_range=(0, int(model.attr("best_iteration")) + 1))
    np.testing.assert_array_equal(ours, as_probabilities(frame, ctx.n_classes))
    reference = xgb.train({**params, "objective": "multi:softprob", "num_class": ctx.n_classes,
                           "tree_method": "hist", "nthread": 1, "seed": 0},
                          xgb.DMatrix(Xtr, label=ytr), num_boost_round=20)
    fast = dmatrix(xgb, Xtr, label=ytr)
    again = xgb.train({**params, "objective": "multi:softprob", "num_class": ctx.n_classes,
                       "tree_method": "hist", "nthread": 1, "seed": 0}, fast, num_boost_round=20)
    np.testing.assert_array_equal(reference.predict(xgb.DMatrix(Xva)), again.predict(xgb.DMatrix(Xva)))
    with_category = Xva.assign(c=pd.Categorical(["a", "b"] * (len(Xva) // 2) + ["a"] * (len(Xva) % 2)))
    assert dmatrix(xgb, with_category).feature_types[-1] == "c"


def test_mlp_builds_each_fold_network_once_and_forgets_it_with_the_model():
    """Scoring reuses a loaded model's network (same outputs); dropping the model frees it."""
    import gc
    import pickle
    import time

    pytest.importorskip("torch")
    from mlexpert.models import mlp
    from mlexpert.models._base import FitContext
    from mlexpert.testing import toy_problem

    family = get_family("mlp")
    Xtr, ytr, Xva, yva = toy_problem("binary", family.profile)
    params = {**family.default_configs("binary", len(ytr), 10)[0], "width": 32}
    model = family.fit(Xtr, ytr, params, FitContext("binary", 2, 1, 0, time.monotonic() + 60), Xva, yva)
    copy = pickle.loads(pickle.dumps(model))  # as loaded from disk: new arrays, new entry
    first = family.predict(model, Xva, "binary")
    torch = __import__("torch")
    with torch.device("meta"):  # built from scratch, weights assigned: the same outputs
        fresh = mlp._network(torch, model["arch"])
    fresh.load_state_dict({k: torch.from_numpy(v) for k, v in model["state"].items()}, assign=True)
    np.testing.assert_array_equal(mlp._forward(torch, fresh, mlp._tensors(torch, Xva)),
                                  mlp._forward(torch, mlp._loaded_network(torch, model),
                                               mlp._tensors(torch, Xva)))
    before = len(mlp._NETWORKS)
    np.testing.assert_array_equal(family.predict(model, Xva, "binary"), first)
    np.testing.assert_array_equal(family.predict(copy, Xva, "binary"), first)
    assert len(mlp._NETWORKS) == before + 1
    assert mlp._loaded_network(torch, model) is mlp._loaded_network(torch, model)
    del model, copy, fresh
    gc.collect()
    assert len(mlp._NETWORKS) == before - 1


def test_mlp_embeds_wide_tables_more_narrowly_and_loads_older_models():
    """Periodic embeddings shrink on wide tables (the first layer's input stays near
    PERIODIC_WIDTH); a model saved before the size was recorded loads at the old size."""
    import pickle
    import time

    pytest.importorskip("torch")
    from mlexpert.models import mlp
    from mlexpert.models._base import FitContext

    assert mlp.periodic_dim(10) == mlp.PERIODIC_DIM and mlp.periodic_dim(856) == 4
    assert mlp.periodic_dim(100_000) == mlp.MIN_PERIODIC_DIM
    rng = np.random.default_rng(0)
    n, d = 200, 600
    X = {"num": rng.normal(size=(n, d)).astype(np.float32), "cat": np.zeros((n, 0), np.int64),
         "cardinalities": []}
    y = (X["num"][:, 0] > 0).astype(int)
    family = get_family("mlp")
    params = {"width": 32, "depth": 2, "dropout": 0.0, "lr": 1e-3, "periodic": True, "epochs": 2}
    model = family.fit(X, y, params, FitContext("binary", 2, 1, 0, time.monotonic() + 60))
    assert model["arch"]["periodic_dim"] == 4096 // 600 == 6
    assert model["state"]["periodic.weight"].shape == (600, 32, 6)
    assert family.predict(model, X, "binary").shape == (n, 2)
    narrow = {"num": X["num"][:, :5], "cat": X["cat"], "cardinalities": []}
    model = family.fit(narrow, y, params, FitContext("binary", 2, 1, 0, time.monotonic() + 60))
    before = family.predict(model, narrow, "binary")
    older = pickle.loads(pickle.dumps(model))  # new arrays: its network is built afresh
    del older["arch"]["periodic_dim"]  # as saved by an earlier release
    np.testing.assert_array_equal(family.predict(older, narrow, "binary"), before)


def test_mlp_optimiser_matches_torch_adamw_with_lambdalr():
    """The functional AdamW gives the same weights as torch.optim.AdamW + LambdaLR
    (two parameter groups, warmup and decay of the learning rate, a skipped step)."""
    torch = pytest.importorskip("torch")
    from mlexpert.models._adamw import AdamW

    def schedule(step):
        return min((step + 1) / 3, 0.9 ** step)

    def net():
        torch.manual_seed(0)
        return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))

    ours, ref = net(), net()
    groups = [([p for p in ours.parameters() if p.ndim > 1], 0.01),
              ([p for p in ours.parameters() if p.ndim <= 1], 0.0)]
    opt = AdamW(torch, groups, lr=0.05, schedule=schedule)
    ref_opt = torch.optim.AdamW(
        [{"params": [p for p in ref.parameters() if p.ndim > 1], "weight_decay": 0.01},
         {"params": [p for p in ref.parameters() if p.ndim <= 1], "weight_decay": 0.0}], lr=0.05)
    sched = torch.optim.lr_scheduler.LambdaLR(ref_opt, schedule)
    gen = torch.Generator().manual_seed(1)
    for _ in range(12):
        X, y = torch.randn(16, 6, generator=gen), torch.randint(0, 3, (16,), generator=gen)
        for model, o in ((ours, opt), (ref, ref_opt)):
            o.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            o.step()
        sched.step()
    for a, b in zip(ours.parameters(), ref.parameters()):
        assert torch.equal(a, b)
    assert not all(torch.equal(a, b) for a, b in zip(ours.parameters(), net().parameters()))


def test_mlp_fit_does_not_import_the_torch_compiler():
    """Training a network, or scoring with a loaded one, must not pull in torch._dynamo
    (+66 MB resident, 822 modules)."""
    import subprocess
    import sys

    pytest.importorskip("torch")
    code = (
        "import sys, time\n"
        "from mlexpert.models.registry import get_family\n"
        "from mlexpert.models._base import FitContext\n"
        "from mlexpert.testing import toy_problem\n"
        "family = get_family('mlp')\n"
        "Xtr, ytr, Xva, yva = toy_problem('multiclass', family.profile)\n"
        "params = {**family.default_configs('multiclass', len(ytr), 10)[0], 'width': 32}\n"
        "model = family.fit(Xtr, ytr, params, FitContext('multiclass', 3, 1, 0, time.monotonic() + 60), Xva, yva)\n"
        "assert model['epochs'] >= 1, model\n"
        "import pickle\n"
        "assert family.predict(pickle.loads(pickle.dumps(model)), Xva, 'multiclass').shape == (len(yva), 3)\n"
        "print(sorted(m for m in sys.modules if m.startswith('torch._dynamo'))[:3])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"


def test_xgboost_grows_at_most_max_trees_per_model(monkeypatch):
    """Rounds x classes stay within MAX_TREES, with and without a validation set."""
    import time

    pytest.importorskip("xgboost")
    from mlexpert.models import xgboost as xgb_family
    from mlexpert.models._base import FitContext
    from mlexpert.testing import toy_problem

    monkeypatch.setattr(xgb_family, "MAX_TREES", 90)
    family = get_family("xgboost")
    Xtr, ytr, Xva, yva = toy_problem("multiclass", family.profile)
    ctx = FitContext("multiclass", 3, 1, 0, time.monotonic() + 60)
    params = {"eta": 0.001, "max_depth": 3}  # far from converged after 30 rounds
    model = family.fit(Xtr, ytr, params, ctx, Xva, yva)
    assert model.num_boosted_rounds() == 30
    refit = family.fit(Xtr, ytr, {**params, "n_estimators": 500}, ctx)
    assert refit.num_boosted_rounds() == 30
    binary = family.fit(*toy_problem("binary", family.profile)[:2], {**params, "n_estimators": 500},
                        FitContext("binary", 2, 1, 0, time.monotonic() + 60))
    assert binary.num_boosted_rounds() == 90
