"""Weak supervisors on real data: fine-tuning really trains the model's weights."""

import random

import numpy as np
import pytest

from w2s.oracles.weak import FinetunedClassifier, make_weak_model, minilm_path
from w2s.store.datasets import load_named

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def amazon(shared_data, n_train, n_test, max_chars=300):
    d = load_named("amazon", str(shared_data))
    gold = {g.item_id: g.label for g in d.gold}
    pick = lambda split, n: random.Random(0).sample(
        [i for i in d.items if i.split == split and len(i.text) <= max_chars], n)
    tr, te = pick("train", n_train), pick("test", n_test)
    return ([i.text for i in tr], np.array([gold[i.id] for i in tr]),
            [i.text for i in te], np.array([gold[i.id] for i in te]))


def test_fine_tuned_minilm_learns_sentiment(shared_data):
    x, y, xt, yt = amazon(shared_data, 200, 200)
    model = make_weak_model("minilm-ft")
    assert isinstance(model, FinetunedClassifier)
    model.max_length = 64
    model.fit(x, y, seed=0)
    p = model.predict(xt)
    assert p.shape == (200,) and ((p >= 0) & (p <= 1)).all()
    assert ((p > 0.5) == yt).mean() > 0.7
    # the encoder itself moved, not only a head on frozen features
    from transformers import AutoModel
    base = AutoModel.from_pretrained(minilm_path())
    tuned = model.model.base_model
    name, weight = next(iter(base.named_parameters()))
    assert not np.allclose(weight.detach().numpy(), dict(tuned.named_parameters())[name].detach().numpy())


def test_any_local_hf_model_fine_tunes_even_a_decoder(shared_data, model_dir):
    """hf-ft:PATH with the student's own folder (a causal LM, no pad token)."""
    x, y, xt, _ = amazon(shared_data, 24, 8, max_chars=150)
    model = make_weak_model(f"hf-ft:{model_dir}")
    model.epochs, model.batch_size, model.max_length = 1, 8, 48
    p = model.fit(x, y).predict(xt)
    assert p.shape == (8,) and np.isfinite(p).all()


def test_a_small_lm_probe_supervises_from_a_middle_layer(shared_data, model_dir):
    """probe:smollm2 (Burns et al.: a small pretrained LM as the supervisor): a probe on
    SmolLM2's middle-layer features learns sentiment from 200 gold labels."""
    from w2s.oracles.weak import LMProbe
    x, y, xt, yt = amazon(shared_data, 200, 200)
    model = make_weak_model("probe:smollm2")
    assert isinstance(model, LMProbe)
    p = model.fit(x, y, seed=0).predict(xt)
    assert p.shape == (200,) and ((p >= 0) & (p <= 1)).all()
    assert ((p > 0.5) == yt).mean() > 0.65
    assert np.allclose(model.fit(x, y, seed=0).predict(xt), p)  # features reused, same fit
