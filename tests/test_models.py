"""Every registered model family passes the shared family contract."""

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
