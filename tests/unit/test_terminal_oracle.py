"""The terminal oracle, driven by typed keys, saving into a real DuckDB file."""

import io

import pytest
from rich.console import Console

from w2s.oracles import OracleStopped, ask
from w2s.oracles.human import TerminalOracle
from w2s.store import Label, Query
from w2s.store.datasets import generate, subsample


@pytest.fixture
def setup(store):
    d = subsample(generate(), 2)
    store.import_dataset(d.dataset, d.items, d.gold)
    return store, store.dataset("builtin"), store.items("builtin")[:4]


def oracle(dataset, keys, predictions=None):
    out = io.StringIO()
    return TerminalOracle(dataset, 1.0, predictions, stdin=io.StringIO(keys),
                          console=Console(file=out, width=100)), out


def test_keys_label_skip_undo_and_show_predictions(setup):
    store, dataset, items = setup
    # t = true, 0 = false, u undoes it, 1 = true, p shows predictions, s skips, f = false
    o, out = oracle(dataset, "t\n0\nu\n1\np\ns\nf\n", lambda i: (0.25, 0.75))
    got = ask(store, o, "c", 1, items, "random")
    assert {k: a.value for k, a in got.items()} == {items[0].id: 1, items[1].id: 1,
                                                    items[3].id: 0}
    assert "P(true) = 0.75" in out.getvalue() and "0.25" in out.getvalue()
    status = {q.item_id: q.status for q in store.select(Query)}
    assert status[items[2].id] == "skipped" and len(store.select(Label)) == 3


def test_quit_keeps_every_label_given_and_resume_asks_only_the_rest(setup):
    store, dataset, items = setup
    o, _ = oracle(dataset, "1\n0\nq\n")
    with pytest.raises(OracleStopped):
        ask(store, o, "c", 1, items, "random")
    assert len(store.select(Label)) == 2  # committed as typed
    o, out = oracle(dataset, "1\n1\n")
    got = ask(store, o, "c", 1, items, "random")
    assert len(got) == 4 and out.getvalue().count("/2  ") == 2  # only the two left shown


def test_end_of_input_stops_cleanly(setup):
    store, dataset, items = setup
    o, _ = oracle(dataset, "1\n")
    with pytest.raises(OracleStopped, match="input ended"):
        ask(store, o, "c", 1, items, "random")
    assert len(store.select(Label)) == 1
