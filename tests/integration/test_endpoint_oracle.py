"""An OpenAI-compatible endpoint as an oracle: here a real vLLM server."""

import pytest

from w2s.oracles import OracleContext, OracleSpec, ask, make_oracle
from w2s.store import Label, Query
from w2s.store.datasets import generate, subsample

pytestmark = pytest.mark.integration


def test_a_vllm_chat_endpoint_answers_like_any_oracle(vllm_server, store, tmp_path):
    d = subsample(generate(), 2)
    store.import_dataset(d.dataset, d.items, d.gold)
    dataset = store.dataset("builtin")
    oracle = make_oracle(OracleSpec(name="endpoint", cost=0.1, params={"url": vllm_server.url}),
                         OracleContext(store, dataset, "c", tmp_path))
    assert oracle.name.startswith("endpoint:")
    items = store.items("builtin")[:6]
    got = ask(store, oracle, "c", 0, items, "bulk")
    assert len(got) + len(store.select(Query, "status = 'skipped'")) == 6
    for a in got.values():
        assert a.value in (0, 1) and (a.confidence is None or 0.5 <= a.confidence <= 1)
    assert len(store.select(Label)) == len(got)


def test_an_unreachable_endpoint_fails_clearly(store, tmp_path):
    d = subsample(generate(), 1)
    store.import_dataset(d.dataset, d.items, d.gold)
    with pytest.raises(ValueError, match="no answer after 1 attempts"):
        make_oracle(OracleSpec(name="endpoint", params={"url": "http://127.0.0.1:9", "retries": 0}),
                    OracleContext(store, store.dataset("builtin"), "c", tmp_path))
