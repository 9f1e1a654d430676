"""The truth head before any gold, on hand-built sources: the label model recovers
each source's accuracy per region without gold and trusts each where it is right;
the head reads no gold; the guard keeps the belief when a few labels agree with it."""

import numpy as np
import pytest

from w2s.agent.training import TrainConfig
from w2s.agent.training.mistakes import MistakeConfig, MistakeModel
from w2s.agent.training.probe import _ZERO_GOLD, ProbeHeads
from w2s.agent.training.zero_gold import LabelModel, ZeroGoldConfig

# per region: the supervisor's and the zero-shot answers' accuracy
ACCURACY = {0: (0.9, 0.6), 1: (0.85, 0.8), 2: (0.3, 0.85)}


def world(n=1500, d=64, seed=0):
    """Three regions. The truth is a linear rule of latent directions the features
    carry (noisily); the supervisor and the zero-shot answers are right at the
    region's rates, independently of each other and of the features' noise."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 3))
    x = latent @ rng.normal(size=(3, d)) + 1.5 * rng.normal(size=(n, d))
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    truth = (latent @ np.array([1.0, -0.7, 0.4]) > 0).astype(int)
    regions = np.sort(rng.integers(0, 3, n))
    sup_acc = np.array([ACCURACY[r][0] for r in regions])
    zs_acc = np.array([ACCURACY[r][1] for r in regions])
    said = np.where(rng.random(n) < sup_acc, truth, 1 - truth)
    answered = np.where(rng.random(n) < zs_acc, truth, 1 - truth)
    weak = np.where(said == 1, 0.85, 0.15)
    zero_shot = np.where(answered == 1, 1.5, -1.5) + rng.normal(0, 0.5, n)
    return x, truth, regions, weak, zero_shot


def fit(x, weak, gold, regions, zero_shot, **update):
    cfg = TrainConfig(method="mistake-model", probe_c=0.05, **update)
    return ProbeHeads(x.shape[1]).fit(x, x, weak, gold, cfg, regions=regions, n_regions=3,
                                      zero_shot=zero_shot)


def test_the_label_model_recovers_per_region_accuracies_without_gold():
    rng = np.random.default_rng(1)
    n = 3000
    truth = rng.integers(0, 2, n)
    regions = rng.integers(0, 3, n)
    rates = np.array([[0.9, 0.6, 0.8], [0.85, 0.8, 0.8], [0.3, 0.85, 0.75]])
    right = rng.random((n, 3)) < rates[regions]
    votes = np.where(right, truth[:, None], 1 - truth[:, None])
    model = LabelModel.with_intervals(votes, regions, 3, strength=5.0)
    est, lo, hi = np.moveaxis(model.intervals()[:3], -1, 0)
    assert np.all(lo <= est) and np.all(est <= hi)
    # nine 95 % intervals from the agreements alone: all but one cover the truth here
    assert ((lo <= rates) & (rates <= hi)).sum() >= 8
    assert np.abs(est - rates).max() < 0.1
    # it trusts each source where it is right: region 2 follows the zero-shot answer
    post = model.posterior(votes, regions, 3) > 0.5
    assert np.mean(post[regions == 2] == truth[regions == 2]) > 0.85
    assert np.mean(post == truth) > max(np.mean(votes[:, s] == truth) for s in range(3))


def test_the_zero_gold_head_beats_both_sources_where_each_fails():
    x, truth, regions, weak, zero_shot = world()
    heads = fit(x, weak, -np.ones(len(x)), regions, zero_shot)
    _, p = heads.predict(x, x, regions, zero_shot)
    right = (p > 0.5) == truth
    supervisor = (weak > 0.5) == truth
    answers = (zero_shot > np.quantile(zero_shot, 1 - weak.mean())) == truth
    assert right.mean() > max(supervisor.mean(), answers.mean()) + 0.05
    assert right[regions == 2].mean() > 0.8  # the supervisor is 0.3 there
    acc = heads.source_accuracy()
    assert acc[2]["supervisor"][0] < 0.5 < acc[2]["zero-shot"][0]
    assert acc[0]["supervisor"][0] > acc[0]["zero-shot"][0]


def test_the_weak_method_is_the_weak_head():
    x, _, regions, weak, zero_shot = world(600)
    heads = fit(x, weak, -np.ones(len(x)), regions, zero_shot,
                zero_gold=ZeroGoldConfig(method="weak"))
    p_weak, p_true = heads.predict(x, x, regions, zero_shot)
    assert p_true == pytest.approx(p_weak, abs=1e-6)


def test_no_gold_label_reaches_the_zero_gold_head():
    """The zero-gold head reads weak labels, zero-shot answers and features only:
    bought gold, whatever its values (here another world's), leaves it as it was at
    round 0; only the mistake model on top of it moves."""
    x, truth, regions, weak, zero_shot = world(900)
    round0 = fit(x, weak, -np.ones(len(x)), regions, zero_shot)
    shuffled = np.random.default_rng(5).permutation(truth)
    assert not np.array_equal(shuffled, truth)
    _ZERO_GOLD.clear()  # computed again, not found in the per-process cache
    later = fit(x, weak, np.where(np.arange(len(x)) < 30, shuffled, -1), regions, zero_shot)
    for heads in (round0, later):
        assert heads.zero_gold.method == "label-model"
    assert later.zero_gold.stack == pytest.approx(round0.zero_gold.stack, abs=0)
    assert later._prior_logits(x, x, regions, zero_shot) == pytest.approx(
        round0._prior_logits(x, x, regions, zero_shot), abs=0)


def belief_world(n_gold, right_share, n=800, d=128):
    rng = np.random.default_rng(n_gold)
    latent = rng.normal(size=(n, 4))
    x = latent @ rng.normal(size=(4, d)) + rng.normal(size=(n, d))
    x = (x - x.mean(0)) / x.std(0)
    truth = (latent @ np.array([1.0, -0.5, 0.5, 0.0]) > 0).astype(int)
    right = rng.random(n) < right_share
    z = np.where(np.where(right, truth, 1 - truth) == 1, 2.0, -2.0) + rng.normal(0, 0.7, n)
    return x, truth, rng.integers(0, 3, n), z


@pytest.mark.parametrize("n_gold", [1, 3, 5, 10])
def test_the_guard_keeps_a_correct_belief_through_a_few_gold_labels(n_gold):
    """A belief that is right and a handful of random gold labels: the truth head stays
    within a point of where it started, for every draw of the labels."""
    x, truth, regions, z = belief_world(n_gold, 1.0)
    start = np.mean((z > 0) == truth)
    for seed in range(5):
        gold = np.random.default_rng(seed).choice(len(z), n_gold, replace=False)
        model = MistakeModel.tuned(MistakeConfig(), 3, z[gold], regions[gold], x[gold],
                                   truth[gold])
        assert np.mean((model.logits(z, regions, x) > 0) == truth) >= start - 0.01


@pytest.mark.parametrize("n_gold", [1, 3, 5, 10])
def test_the_guard_keeps_a_belief_whose_mistakes_nothing_predicts(n_gold):
    """Right 90 % of the time, its mistakes random (no region, no feature foretells
    them): a few gold labels, one or two against it, leave the truth head within a
    point of where it started on average over draws (without the guard: 3 points)."""
    x, truth, regions, z = belief_world(n_gold, 0.9)
    start = np.mean((z > 0) == truth)
    after = []
    for seed in range(5):
        gold = np.random.default_rng(seed).choice(len(z), n_gold, replace=False)
        model = MistakeModel.tuned(MistakeConfig(), 3, z[gold], regions[gold], x[gold],
                                   truth[gold])
        after.append(np.mean((model.logits(z, regions, x) > 0) == truth))
    assert np.mean(after) >= start - 0.01, after


def test_without_the_guard_the_spreads_may_move_and_with_it_evidence_still_wins():
    """An inverted region is still learned with the guard on: its evidence beats staying."""
    rng = np.random.default_rng(0)
    n, d = 600, 64
    latent = rng.normal(size=(n, 4))
    x = latent @ rng.normal(size=(4, d)) + rng.normal(size=(n, d))
    x = (x - x.mean(0)) / x.std(0)
    truth = (latent @ np.array([1.0, -0.5, 0.5, 0.0]) > 0).astype(int)
    regions = rng.integers(0, 3, n)
    z = np.where(np.where(regions == 2, 1 - truth, truth) == 1, 2.5, -2.5)
    gold = np.concatenate([rng.choice(np.flatnonzero(regions == r), 3, replace=False)
                           for r in range(3)])
    model = MistakeModel.tuned(MistakeConfig(), 3, z[gold], regions[gold], x[gold], truth[gold])
    assert not model.kept
    assert np.mean((model.logits(z, regions, x) > 0) == truth) > 0.9


def test_the_mistake_model_with_no_gold_is_the_zero_gold_head():
    """Its prior's mean (ZeroGold.center) reproduces the head's logit on any item, items
    of no region included: gold starts from the head, not from the weak head."""
    from w2s.agent.training.zero_gold import ZeroGold

    rng = np.random.default_rng(0)
    n_regions, d, n = 3, 5, 50
    head = ZeroGold("label-model", 0.3, rng.normal(size=d), 0.2,
                    rng.normal(size=(n_regions + 1, 3)), 0.7, n_regions)
    z, zero_shot, x = rng.normal(size=n), rng.normal(size=n), rng.normal(size=(n, d))
    regions = rng.integers(-1, n_regions, n)
    model = MistakeModel(MistakeConfig(), n_regions, d, 2, head.center())
    assert model.logits(np.stack([z, zero_shot - 0.3], 1), regions, x) == pytest.approx(
        head.logits(z, zero_shot, x, regions), abs=1e-9)
