"""The loaders on the real shared data: counts as the sources document them,
categories, balance, stable ids, and a real import into a DuckDB file."""

from collections import Counter, defaultdict

import pytest

from w2s.store import Store
from w2s.store.datasets import SHARED_LOADERS
from w2s.store.gold import read_gold

pytestmark = pytest.mark.integration

# (items, categories, share of label 1) from each source's SOURCE.md
EXPECTED = {
    "ethics": (120_510, {"commonsense", "deontology", "justice", "virtue", "utilitarianism"}, None),
    "mmlu": (2 * 15_906, {"STEM", "humanities", "social sciences",
                          "other (business, health, misc.)"}, 0.5),
    "sciq": (2 * 13_679, {"science"}, 0.5),
    "amazon": (8_000, {"books", "dvd", "electronics", "kitchen"}, 0.5),
    "hh": (2 * 2_312, {"harmless"}, 0.5),
    "truthfulqa": (None, None, None),
}


@pytest.fixture(scope="module")
def loaded(request):
    from conftest import SHARED_DATA
    if not (SHARED_DATA / "README.md").exists():
        pytest.skip(f"shared data not found at {SHARED_DATA}")
    return {name: load(SHARED_DATA) for name, load in SHARED_LOADERS.items()}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_counts_categories_and_balance(loaded, name):
    d = loaded[name]
    n, categories, positive = EXPECTED[name]
    assert len({i.id for i in d.items}) == len(d.items)
    assert all(i.id.startswith(f"{name}:") and i.dataset == name for i in d.items)
    assert len(d.gold) == len(d.items)
    if n is not None:
        assert len(d.items) == n
    if categories is not None:
        assert {i.category for i in d.items} == categories
    if positive is not None:
        assert sum(g.label for g in d.gold) / len(d.gold) == pytest.approx(positive)
    assert {"train", "test"} <= {i.split for i in d.items}


def test_ethics_subsets_keep_their_published_splits_and_questions(loaded):
    d = loaded["ethics"]
    c = Counter((i.category, i.split) for i in d.items)
    assert c[("justice", "train")] == 21_791 and c[("virtue", "test_hard")] == 4_780
    assert c[("utilitarianism", "train")] == 13_738
    assert c[("commonsense", "train")] + c[("commonsense", "test")] == 3_885 + 3_964
    assert len({i.question for i in d.items}) == 5
    labels = {g.item_id: g.label for g in d.gold}
    util = [labels[i.id] for i in d.items if i.category == "utilitarianism"]
    assert 0.45 < sum(util) / len(util) < 0.55  # random order makes the pair task balanced


def test_truthfulqa_keeps_its_categories(loaded):
    d = loaded["truthfulqa"]
    assert len({i.category for i in d.items}) == 37
    assert 5_900 < len(d.items) <= 6_028
    assert "Misconceptions" in {i.category for i in d.items}


@pytest.mark.parametrize("name", ["sciq", "mmlu", "hh", "truthfulqa"])
def test_groups_hold_one_question_and_never_straddle_splits(loaded, name):
    d = loaded[name]
    labels = {g.item_id: g.label for g in d.gold}
    groups = defaultdict(list)
    for i in d.items:
        groups[i.group_id].append(i)
    for members in groups.values():
        assert len({m.split for m in members}) == 1
        if name != "truthfulqa":
            assert sorted(labels[m.id] for m in members) == [0, 1]


def test_loading_twice_gives_the_same_items(loaded):
    from conftest import SHARED_DATA
    again = SHARED_LOADERS["sciq"](SHARED_DATA)
    assert [i.model_dump() for i in again.items[:500]] == \
           [i.model_dump() for i in loaded["sciq"].items[:500]]


def test_every_dataset_imports_into_one_duckdb_file(loaded, tmp_path):
    with Store(tmp_path / "w2s.duckdb") as store:
        for d in loaded.values():
            store.import_dataset(d.dataset, d.items, d.gold)
        for name, d in loaded.items():
            assert sum(n for _, _, n in store.item_counts(name)) == len(d.items)
        assert len(read_gold(store, dataset="amazon")) == 8_000
        item = store.items("mmlu", limit=1)[0]
        assert item.extra["subject"] and item.group_id
