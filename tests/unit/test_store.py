from datetime import datetime

import duckdb
import pytest

from w2s.store import (Campaign, Check, Dataset, Event, Gold, Item, Label, Metric, Prediction,
                       Query, Store, StoreError, TrainingRound)
from w2s.store.gold import read_gold
from w2s.store.schema import LATEST


def _dataset(name="d"):
    return Dataset(name=name, labels=["no", "yes"], question="Q?")


def _items(n, dataset="d"):
    return [Item(id=f"{dataset}:{i}", dataset=dataset, split="train", category="c",
                 text=f"text {i}") for i in range(n)]


def test_new_file_is_migrated_to_latest(tmp_path):
    path = tmp_path / "w.duckdb"
    with Store(path) as s:
        assert s.version() == LATEST
        tables = {t for (t,) in s.sql("SELECT table_name FROM information_schema.tables")}
    assert {"datasets", "items", "gold", "campaigns", "queries", "labels", "predictions",
            "checks", "training_rounds", "metrics", "events"} <= tables
    with Store(path) as s:  # reopening applies nothing twice
        assert s.sql("SELECT count(*) FROM schema_version")[0][0] == LATEST


def test_an_old_file_is_migrated_and_keeps_its_rows(tmp_path):
    from w2s.store.schema import MIGRATIONS
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMP DEFAULT now())")
    con.execute(MIGRATIONS[0])
    con.execute("INSERT INTO schema_version (version) VALUES (1)")
    con.execute("INSERT INTO datasets VALUES ('old', ['no', 'yes'], 'Q?', '', '', now())")
    con.close()
    with Store(path) as s:
        assert s.version() == LATEST
        assert s.dataset("old").fingerprint == ""


def test_schema_4_gives_queries_a_purpose_and_runs_a_kind(tmp_path):
    from w2s.store.schema import MIGRATIONS
    path = tmp_path / "v3.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, "
                "applied_at TIMESTAMP DEFAULT now())")
    for k in range(3):
        con.execute(MIGRATIONS[k])
        con.execute("INSERT INTO schema_version (version) VALUES (?)", [k + 1])
    con.execute("INSERT INTO campaigns VALUES ('c', 'd', '{}', 'done', now()), "
                "('exp-d-1', 'd', '{}', 'done', now())")
    for item, strategy in (("a", "bulk"), ("b", "entropy"), ("c", "weak-training")):
        con.execute("INSERT INTO queries VALUES (?, 'c', 0, ?, 'o', ?, NULL, 0, 'answered', "
                    "now())", [item, item, strategy])
    con.close()
    with Store(path) as s:
        assert {c.id: c.kind for c in s.select(Campaign)} == {"c": "campaign",
                                                               "exp-d-1": "experiment"}
        assert {q.item_id: q.purpose for q in s.select(Query)} == {
            "a": "bulk", "b": "purchase", "c": "weak-training"}
    # new queries say theirs from what they were asked for
    assert Query(campaign_id="c", round=1, item_id="i", oracle="o", strategy="evaluation",
                 cost=0).purpose == "evaluation"


def test_a_file_from_a_newer_w2s_is_refused(tmp_path):
    path = tmp_path / "w.duckdb"
    Store(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version (version) VALUES (?)", [LATEST + 1])
    con.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_read_only_store_needs_an_existing_file(tmp_path):
    with pytest.raises(StoreError, match="no workspace"):
        Store(tmp_path / "missing.duckdb", read_only=True)


def test_every_record_kind_round_trips_and_retries_are_idempotent(store):
    t = datetime(2026, 1, 1)
    records = [
        _dataset(), *_items(2), Campaign(id="c1", dataset="d", config={"budget": 5}),
        Query(campaign_id="c1", round=0, item_id="d:0", oracle="gt", strategy="random",
              score=0.5, cost=1.0),
        Prediction(campaign_id="c1", round=0, item_id="d:0", head="true", prob=0.7,
                   model_version="m0"),
        Check(campaign_id="c1", round=0, check_name="negation", item_ids=["d:0", "d:1"],
              violation=0.2, details={"gap": 0.2}, model_version="m0"),
        TrainingRound(campaign_id="c1", round=0, loss="xent", n_weak=2, n_gold=0,
                      model_version="m1", started_at=t),
        Metric(campaign_id="c1", round=0, name="acc", value=0.8),
        Event(id="e1", campaign_id="c1", kind="started", payload={"pid": 1}),
    ]
    query = records[4]
    records.append(Label(query_id=query.id, oracle="gt", value=1, confidence=1.0, latency_s=0.1))
    store.write(records)
    store.write(records)  # a retry after a crash writes nothing new
    for r in records:
        found = store.select(type(r))
        assert len(found) == (2 if isinstance(r, Item) else 1), type(r).__name__
    assert store.select(Check)[0].details == {"gap": 0.2}
    assert store.select(Campaign)[0].config == {"budget": 5}
    assert store.select(Query)[0].id == query.id


def test_query_identity_is_its_key():
    a = Query(campaign_id="c", round=1, item_id="i", oracle="o", strategy="s", cost=1)
    b = Query(campaign_id="c", round=1, item_id="i", oracle="o", strategy="t", cost=2)
    c = Query(campaign_id="c", round=2, item_id="i", oracle="o", strategy="s", cost=1)
    assert a.id == b.id != c.id


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.write([_dataset()])
            with store.transaction():  # nested joins the outer one
                store.write(_items(3))
            raise RuntimeError("crash")
    assert store.select(Dataset) == [] and store.select(Item) == []


def test_gold_is_only_read_through_the_gold_module(store):
    store.import_dataset(_dataset(), _items(3), [Gold(item_id="d:0", label=1),
                                                 Gold(item_id="d:2", label=0)])
    with pytest.raises(StoreError, match="gold"):
        store.select(Gold)
    assert read_gold(store, dataset="d") == {"d:0": 1, "d:2": 0}
    assert read_gold(store, item_ids=["d:2", "d:1"]) == {"d:2": 0}
    assert read_gold(store, item_ids=[]) == {}


def test_import_is_all_or_nothing_and_replace_needs_asking(store):
    assert store.import_dataset(_dataset(), _items(3), [Gold(item_id="d:0", label=1)])
    assert not store.import_dataset(_dataset(), _items(3), [Gold(item_id="d:0", label=1)])
    with pytest.raises(StoreError, match="already"):
        store.import_dataset(_dataset(), _items(5), [])
    assert len(store.items("d")) == 3
    store.import_dataset(_dataset(), _items(5), [], replace=True)
    assert len(store.items("d")) == 5
    assert read_gold(store, dataset="d") == {}


def test_a_dataset_in_use_by_a_campaign_cannot_be_replaced(store):
    store.import_dataset(_dataset(), _items(2), [])
    store.write([Campaign(id="c", dataset="d")])
    with pytest.raises(StoreError, match="campaign"):
        store.import_dataset(_dataset(), _items(4), [], replace=True)
    assert len(store.items("d")) == 2


def test_items_filter_and_count(store):
    items = _items(4) + [Item(id="d:t", dataset="d", split="test", category="k", text="x")]
    store.import_dataset(_dataset(), items, [])
    assert [i.id for i in store.items("d", split="test")] == ["d:t"]
    assert store.item_counts("d") == [("test", "k", 1), ("train", "c", 4)]
    with pytest.raises(StoreError, match="no dataset 'zz'"):
        store.dataset("zz")


def test_records_reject_bad_values():
    with pytest.raises(ValueError):
        Label(query_id="q", oracle="o", value=2)
    with pytest.raises(ValueError):
        Prediction(campaign_id="c", round=0, item_id="i", head="other", prob=0.5,
                   model_version="m")
    with pytest.raises(ValueError):
        Item(id="i", dataset="d", split="s", category="c", text="")
