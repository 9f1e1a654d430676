"""Gold labels are kept apart by construction: the store's general reads refuse the
gold table, and only w2s.store.gold (used by the ground-truth oracle and evaluation)
reads it."""

import pytest

from w2s.store import Gold, Store, StoreError
from w2s.store.datasets import generate
from w2s.store.gold import count_gold, gold_per_dataset, read_gold


@pytest.fixture
def store(tmp_path):
    loaded = generate()
    with Store.in_workspace(tmp_path / "ws") as s:
        s.import_dataset(loaded.dataset, loaded.items, loaded.gold)
        yield s


@pytest.mark.parametrize("sql", [
    "SELECT * FROM gold",
    "SELECT label FROM GOLD WHERE item_id = ?",
    'SELECT g.label FROM items i JOIN "gold" g ON g.item_id = i.id',
    "SELECT count(*) FROM items WHERE id IN (SELECT item_id FROM main.gold)",
    "WITH x AS (SELECT * FROM gold) SELECT * FROM x",
    "DELETE FROM gold",
])
def test_store_sql_refuses_the_gold_table(store, sql):
    with pytest.raises(StoreError, match="w2s.store.gold only"):
        store.sql(sql, ["x"] if "?" in sql else None)


def test_select_refuses_gold_records(store):
    with pytest.raises(StoreError, match="w2s.store.gold only"):
        store.select(Gold)


def test_other_reads_are_untouched(store):
    # the word in a literal or in a longer name is not the table
    assert store.sql("SELECT 'gold', count(*) FROM items WHERE category <> 'gold'")[0][1] > 0
    assert store.sql("SELECT count(*) FROM metrics WHERE name = 'gold_labels'") == [(0,)]


def test_the_gold_module_reads_it(store):
    ids = [i.id for i in store.items("builtin")][:5]
    gold = read_gold(store, item_ids=ids)
    assert set(gold) == set(ids) and set(gold.values()) <= {0, 1}
    assert count_gold(store, ids + ["no-such-item"]) == 5
    assert gold_per_dataset(store) == {"builtin": len(read_gold(store, dataset="builtin"))}
