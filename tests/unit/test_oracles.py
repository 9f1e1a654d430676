"""Oracles: the simulated supervisor's systematic errors, the registry and plugins,
on a real DuckDB file with the built-in task."""

import sys
import textwrap

import pytest

from w2s.agent.experiment import ExperimentConfig, weak_spec
from w2s.oracles import (GroundTruthOracle, NoisySupervisor, OracleContext, OracleSpec, ask,
                         make_oracle)
from w2s.store import Query
from w2s.store.datasets import generate, subsample
from w2s.store.datasets.builtin import CUE


@pytest.fixture
def builtin(store):
    d = subsample(generate(), 40)
    store.import_dataset(d.dataset, d.items, d.gold)
    return store, store.dataset("builtin"), store.items("builtin"), {g.item_id: g.label for g in d.gold}


def ctx(store, dataset, **kw):
    return OracleContext(store, dataset, "c1", store.path.parent, **kw)


def test_noisy_supervisor_is_wrong_where_told_and_nowhere_else(builtin):
    store, dataset, items, gold = builtin
    oracle = NoisySupervisor(store, wrong_categories=["animals"])
    for item, answer in zip(items, oracle.answer(items)):
        assert (answer.value == gold[item.id]) == (item.category != "animals"), item.id


def test_noisy_supervisor_fooled_by_a_cue(builtin):
    store, dataset, items, gold = builtin
    answers = NoisySupervisor(store, cue=CUE, cue_label=1).answer(items)
    for item, answer in zip(items, answers):
        assert answer.value == (1 if item.text.startswith(CUE) else gold[item.id])


def test_noisy_supervisor_flips_a_stable_share(builtin):
    store, dataset, items, gold = builtin
    oracle = NoisySupervisor(store, noise=0.3)
    first = [a.value for a in oracle.answer(items)]
    assert first == [a.value for a in oracle.answer(items)]
    wrong = sum(v != gold[i.id] for i, v in zip(items, first)) / len(items)
    assert 0.2 < wrong < 0.4


def test_registry_builds_by_name_and_refuses_unknown_names(builtin):
    store, dataset, items, _ = builtin
    gt = make_oracle(OracleSpec(name="ground-truth", cost=2.5), ctx(store, dataset))
    assert isinstance(gt, GroundTruthOracle) and gt.cost == 2.5
    with pytest.raises(ValueError, match="unknown oracle 'oracel'.*ground-truth"):
        make_oracle(OracleSpec(name="oracel"), ctx(store, dataset))
    with pytest.raises(ValueError, match="cannot import"):
        make_oracle(OracleSpec(name="no_such_module:Thing"), ctx(store, dataset))


def test_weak_model_oracle_buys_its_training_gold_through_the_log(builtin):
    store, dataset, items, _ = builtin
    train = [i for i in items if i.split == "train"]
    oracle = make_oracle(OracleSpec(name="weak-model", params={"model": "tfidf"}),
                         ctx(store, dataset, weak_training=train))
    assert oracle.name == "weak:tfidf"
    bought = store.select(Query, "strategy = 'weak-training'")
    assert {q.item_id for q in bought} == {i.id for i in train}
    assert all(q.oracle == "ground-truth" for q in bought)


def test_a_users_oracle_class_plugs_in_by_module_path(builtin, tmp_path, monkeypatch):
    store, dataset, items, _ = builtin
    (tmp_path / "my_oracles.py").write_text(textwrap.dedent("""
        from w2s.oracles import Answer

        class AlwaysYes:
            name = "always-yes"
            def __init__(self, confidence=0.9):
                self.confidence = confidence
            def answer(self, items):
                return [Answer(1, self.confidence) for _ in items]
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    oracle = make_oracle(OracleSpec(name="my_oracles:AlwaysYes", cost=0.5,
                                    params={"confidence": 0.8}), ctx(store, dataset))
    got = ask(store, oracle, "c1", 0, items[:3], "random")
    assert {a.p1 for a in got.values()} == {0.8}
    assert {q.cost for q in store.select(Query)} == {0.5}
    assert {q.oracle for q in store.select(Query)} == {"always-yes"}
    sys.modules.pop("my_oracles", None)


def test_experiment_weak_names_map_to_oracle_specs():
    assert weak_spec(ExperimentConfig(dataset="x", weak="minilm-ft")) == OracleSpec(
        name="weak-model", params={"model": "minilm-ft"})
    assert weak_spec(ExperimentConfig(dataset="x", weak="oracle:noisy",
                                      weak_params={"noise": 0.2})) == OracleSpec(
        name="noisy", params={"noise": 0.2})


def test_oracle_kinds_are_declared_not_guessed_from_names(tmp_path, monkeypatch):
    from w2s.oracles import kind

    assert kind("weak-model").fits_on_gold and not kind("weak-model").person
    assert kind("human-web").person and kind("human-terminal").person
    assert not kind("ground-truth").fits_on_gold and not kind("noisy").person
    (tmp_path / "my_people.py").write_text(
        "class Crowd:\n    person = True\n\nclass Humanoid:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert kind("my_people:Crowd").person
    assert not kind("my_people:Humanoid").person  # a name is not a kind
    assert kind("no_such_module:X") == kind("ground-truth").__class__()
