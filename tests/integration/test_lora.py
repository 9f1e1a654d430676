"""LoRA training on real components: SmolLM2 trained with transformers + peft, the
adapter loaded into a real vLLM server, its predictions checked against peft
in-process."""

import numpy as np
import pytest

from w2s.agent.student import HEADS, EngineError, Head, HFEngine, Student, StudentConfig
from w2s.agent.student.engines import collect
from w2s.agent.training import TrainConfig
from w2s.agent.training.lora import load_adapter, train_lora
from w2s.store.datasets import generate
from w2s.agent.student.models import SMOLLM2

pytestmark = [pytest.mark.integration, pytest.mark.slow]

N = 16


@pytest.fixture(scope="module")
def task():
    d = generate()
    items = d.items[:N]
    gold = {g.item_id: g.label for g in d.gold}
    return d.dataset, items, np.array([gold[i.id] for i in items])


@pytest.fixture(scope="module")
def adapter(model_dir, task, tmp_path_factory):
    """One epoch (2 steps of 8 items) with the gold labels as weak labels."""
    dataset, items, y = task
    student = Student(StudentConfig(model=SMOLLM2, engine="hf"), tmp_path_factory.mktemp("ws"))
    p = student.prompter
    steps = []
    out = train_lora(model_dir, [p.head(i, dataset, Head.weak) for i in items],
                     [p.head(i, dataset, Head.true) for i in items], y.astype(float),
                     np.full(N, -1), p.label_ids,
                     TrainConfig(mode="lora", loss="xent", lora_batch_size=8, lora_epochs=1),
                     tmp_path_factory.mktemp("lora") / "adapter",
                     on_step=lambda *a: steps.append(a))
    assert [(s, t) for s, t, _ in steps] == [(1, 2), (2, 2)]
    assert all(np.isfinite(loss) for _, _, loss in steps)
    return out


def _logprobs(probs: dict) -> np.ndarray:
    """[items, heads, 2] label log-probs from Student.predict's P(label 1)."""
    p = np.stack([probs[h] for h in HEADS], axis=1)
    return np.stack([np.log1p(-p), np.log(p)], axis=2)


def test_adapter_is_saved(adapter):
    assert (adapter / "adapter_config.json").exists()
    assert (adapter / "adapter_model.safetensors").stat().st_size > 0


def test_served_adapter_matches_peft_in_process(adapter, vllm_server, model_dir, task,
                                                tmp_path):
    from peft import PeftModel

    dataset, items, y = task
    load_adapter(vllm_server.url, "t-lora", adapter)

    def served(name: str) -> np.ndarray:
        with Student(StudentConfig(model=SMOLLM2, url=vllm_server.url, served_name=name),
                     tmp_path) as s:
            return _logprobs(s.predict(items, dataset))

    tuned, base = served("t-lora"), served(model_dir.name)
    assert np.abs(tuned - base).max() > 0.05

    local = Student(StudentConfig(model=SMOLLM2, engine="hf"), tmp_path).open()
    engine: HFEngine = local.engine
    engine.model = PeftModel.from_pretrained(engine.model, adapter).eval()
    prompts = local.prompts(items, dataset)
    peft_lp = collect(engine.label_logprobs(prompts, local.prompter.label_ids),
                      len(prompts), 2).reshape(N, len(HEADS), 2)
    assert np.abs(tuned - peft_lp).max() < 1e-3

    # trained toward the gold labels: the truth head gives them more probability
    truth = HEADS.index(Head.true)
    assert tuned[np.arange(N), truth, y].mean() > base[np.arange(N), truth, y].mean()


def test_a_bad_adapter_path_is_a_clear_error(vllm_server, tmp_path):
    bogus = tmp_path / "no-such-adapter"
    with pytest.raises(EngineError, match="No adapter found|no-such-adapter"):
        load_adapter(vllm_server.url, "t-bogus", bogus)
