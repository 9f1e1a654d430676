"""How the probe trainer wires its two students (fakes stand in for models and
servers; the real path is in tests/integration): features from a pooling server on
the truncated folder, zero-shot answers from the full model's generate server."""

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from w2s.agent.student import StudentConfig
from w2s.agent.training import trainers
from w2s.store import Dataset, Item


class FakeStudent:
    made: list = []

    def __init__(self, config, workspace, chat=True):
        self.config, self.chat = config, chat
        self.model_dir = Path("/models/full") if chat else Path(config.model)
        self.name = self.model_version = self.model_dir.name
        self.prompter = SimpleNamespace(features=lambda item, dataset: item.text)
        FakeStudent.made.append(self)

    def feature_prompts(self, items, dataset):
        return [i.text for i in items]

    def close(self):
        pass


def test_probe_mode_takes_features_and_zero_shot_from_their_own_servers(monkeypatch, tmp_path):
    FakeStudent.made = []
    monkeypatch.setattr(trainers, "Student", FakeStudent)
    monkeypatch.setattr(trainers, "needs_prepare", lambda model: False)
    monkeypatch.setattr(trainers, "feature_layer", lambda folder, depth: 20)
    monkeypatch.setattr(trainers, "truncated", lambda folder, layers: Path(f"{folder}.layers-{layers}"))
    rng = np.random.default_rng(0)
    monkeypatch.setattr(trainers, "prompt_features",
                        lambda student, prompts, *a, **k: rng.normal(3, 2, (len(prompts), 8)))
    items = [Item(id=f"d:{k}", dataset="d", split="train" if k < 6 else "test", category="c",
                  text=f"item {k}") for k in range(10)]
    config = StudentConfig(model="some-model", url="http://gen:8000",
                           features_url="http://pool:8001", served_name="served")
    t = trainers.ProbeTrainer(config, Dataset(name="d", labels=["no", "yes"], question="?"),
                              items[:6], items[6:], tmp_path / "models", tmp_path)
    full, feats = FakeStudent.made
    assert full.chat and full.config.url == "http://gen:8000" and full.config.served_name == "served"
    assert not feats.chat and feats.config.url == "http://pool:8001"
    assert feats.config.model == "/models/full.layers-20" and feats.config.served_name is None
    assert feats.config.serve.runner == "pooling" and not feats.config.serve.enable_lora
    f = t.feats["train"]["true"]
    assert np.array_equal(t.feats["train"]["weak"], f) and np.allclose(f.mean(0), 0, atol=1e-5)  # one standardized set


def test_zero_shot_answers_come_for_every_item_in_one_pass(monkeypatch, tmp_path):
    """Pool and test items are answered in one pass (one server start), the features'
    server closed first (never two copies of the model), and split back by position."""
    FakeStudent.made = []
    monkeypatch.setattr(trainers, "Student", FakeStudent)
    monkeypatch.setattr(trainers, "needs_prepare", lambda model: False)
    monkeypatch.setattr(trainers, "feature_layer", lambda folder, depth: 20)
    monkeypatch.setattr(trainers, "truncated", lambda folder, layers: Path(f"{folder}.layers-{layers}"))
    monkeypatch.setattr(trainers, "prompt_features",
                        lambda student, prompts, *a, **k: np.random.default_rng(0).normal(
                            size=(len(prompts), 8)))
    passes, closed = [], []
    monkeypatch.setattr(FakeStudent, "close", lambda self: closed.append(self.chat))

    def answers(student, items, *a, **k):
        passes.append([i.id for i in items])
        return np.array([0.1 + 0.08 * int(i.id.split(":")[1]) for i in items])

    monkeypatch.setattr(trainers, "zero_shot", answers)
    items = [Item(id=f"d:{k}", dataset="d", split="train" if k < 6 else "test", category="c",
                  text=f"item {k}") for k in range(10)]
    t = trainers.ProbeTrainer(StudentConfig(model="some-model"),
                              Dataset(name="d", labels=["no", "yes"], question="?"),
                              items[:6], items[6:], tmp_path / "models", tmp_path)
    test, train = t.zero_shot_logits("test"), t.zero_shot_logits("train")
    assert passes == [[i.id for i in items]] and closed == [False]
    p = 0.1 + 0.08 * np.arange(10)
    assert np.allclose(train, np.log(p[:6] / (1 - p[:6])))
    assert np.allclose(test, np.log(p[6:] / (1 - p[6:])))
