"""Weak-to-strong training on real components: real student features (transformers
here; the vLLM pooling path is in test_student.py), real weak supervisors, a real
DuckDB log, real data."""

from collections import Counter

import numpy as np
import pytest

import w2s.agent.evaluate as evaluate
import w2s.oracles.ground_truth as ground_truth
from w2s.agent.experiment import CEILING, WEAK, ExperimentConfig, run_experiment
from w2s.agent.student import StudentConfig
from w2s.store import Campaign, Metric, Prediction, Query, Store, TrainingRound
from w2s.store.datasets import generate, load_named, subsample
from w2s.agent.student.models import SMOLLM2

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_training_reads_only_gold_it_bought(tmp_path, model_dir, monkeypatch):
    """Gold reaches training only through ground-truth oracle queries in the log;
    evaluation reads gold of test items only."""
    store = Store(tmp_path / "w2s.duckdb")
    d = subsample(generate(), 6)
    store.import_dataset(d.dataset, d.items, d.gold)
    reads = {"oracle": [], "evaluation": []}
    for module, who in ((ground_truth, "oracle"), (evaluate, "evaluation")):
        real = module.read_gold
        monkeypatch.setattr(module, "read_gold", lambda s, dataset=None, item_ids=None,
                            _real=real, _who=who: (reads[_who].extend(item_ids or ["ALL"]),
                                                   _real(s, dataset, item_ids))[1])
    cfg = ExperimentConfig(dataset="builtin", seeds=[0], n_train=None, n_test=None,
                           student=StudentConfig(model=SMOLLM2, engine="hf"), n_boot=20)
    result = run_experiment(store, cfg, tmp_path)
    bought = store.select(Query, "oracle = 'ground-truth' AND status = 'answered'")
    assert "ALL" not in reads["oracle"] + reads["evaluation"]
    assert set(reads["oracle"]) == {q.item_id for q in bought}
    test_ids = {i.id for i in store.items("builtin", split="test")}
    assert set(reads["evaluation"]) <= test_ids and not set(reads["oracle"]) & test_ids
    assert Counter(q.strategy for q in bought) == {"weak-training": len(bought) // 2,
                                                   "ceiling": len(bought) - len(bought) // 2}
    assert set(result.accuracy) >= {WEAK, CEILING, "w2s-xent", "w2s-logconf", "zero-shot"}
    store.close()


def test_a_short_run_on_shipped_data_beats_chance_and_is_logged(tmp_path, model_dir,
                                                                shared_data):
    store = Store(tmp_path / "w2s.duckdb")
    d = load_named("amazon", str(shared_data))
    store.import_dataset(d.dataset, d.items, d.gold)
    # short reviews keep this under a few minutes on 2 CPU cores
    cfg = ExperimentConfig(dataset="amazon", seeds=[0, 1], n_train=300, n_test=200,
                           max_text_chars=400, student=StudentConfig(model=SMOLLM2, engine="hf"),
                           n_boot=200)
    result = run_experiment(store, cfg, tmp_path)
    assert result.accuracy[CEILING] > 0.65
    assert result.accuracy["w2s-xent"] > 0.55 and result.accuracy["w2s-logconf"] > 0.55
    for method in ("zero-shot", "w2s-xent", "w2s-logconf"):
        point, lo, hi = result.pgr[method]
        assert lo <= point <= hi
    campaign = store.select(Campaign, "id = ?", [result.experiment_id])[0]
    assert campaign.status == "done" and campaign.config["dataset"] == "amazon"
    # per seed: the two ceilings, the zero-gold head, the agreement probe, xent, logconf
    assert len(store.select(TrainingRound)) == 2 * 6
    # per seed: those six and zero-shot on the 200 test items
    assert len(store.select(Prediction, "head = 'true'")) == 2 * 7 * 200
    assert {"w2s-zero-gold", "w2s-agreement", "ceiling-features"} <= set(result.accuracy)
    summary = {m.name: m.value for m in store.select(Metric, "scope = 'summary'")}
    assert summary["acc:ceiling"] == pytest.approx(result.accuracy[CEILING])
    assert np.isfinite(summary["pgr:w2s-logconf"])
    # a second run reuses the cached features (no model time), here with a simulated
    # supervisor that is wrong on a whole domain instead of a trained weak model
    domain = store.items("amazon", split="test")[0].category
    noisy = cfg.model_copy(update={"losses": ["window"], "weak": "oracle:noisy",
                                   "weak_params": {"wrong_categories": [domain]}})
    again = run_experiment(store, noisy, tmp_path)
    assert again.seconds < result.seconds
    queries = store.select(Query, "campaign_id = ?", [again.experiment_id])
    assert {q.strategy for q in queries if q.oracle == "noisy"} == {"weak-labels", "evaluation"}
    assert not [q for q in queries if q.strategy == "weak-training"]
    assert again.accuracy[WEAK] < 0.9
    store.close()


def test_lora_mode_serves_its_adapters_through_vllm(tmp_path, vllm_server):
    """The LoRA path end to end on a small subset: adapters trained in-process, each
    hot-loaded into the running vLLM server, which makes the test predictions."""
    store = Store(tmp_path / "w2s.duckdb")
    d = subsample(generate(), 4)
    store.import_dataset(d.dataset, d.items, d.gold)
    cfg = ExperimentConfig(
        dataset="builtin", seeds=[0], n_train=16, n_test=8, losses=["logconf"], n_boot=20,
        student=StudentConfig(model=SMOLLM2, url=vllm_server.url,
                              served_name=vllm_server.served_name),
        train={"mode": "lora", "lora_batch_size": 8})
    result = run_experiment(store, cfg, tmp_path)
    adapters = sorted(p.name for p in (tmp_path / "models" / result.experiment_id).iterdir())
    assert adapters == ["lora-ceiling-seed0", "lora-w2s-logconf-seed0"]
    versions = {p.model_version for p in store.select(Prediction)}
    assert versions == {"lora:ceiling:seed0", "lora:w2s-logconf:seed0", "zero-shot:seed0"}
    served = {m["id"] for m in __import__("httpx").get(f"{vllm_server.url}/v1/models").json()["data"]}
    assert {"lora-ceiling-seed0", "lora-w2s-logconf-seed0"} <= served
    assert set(result.accuracy) == {WEAK, CEILING, "w2s-logconf", "zero-shot"}
    store.close()
