"""The model of the supervisor's mistakes on hand-built supervisors: an inversion in
one region is learned from a handful of gold labels, a supervisor that is right is
left alone, and the posterior says where it is unsure."""

from math import erf

import numpy as np
import pytest

from w2s.agent.training.mistakes import MistakeConfig, MistakeModel


def world(n, d=256, seed=0, inverted_region=2, n_regions=3):
    """Items in regions; features as an LM's are, a few latent directions spread over
    many noisy dimensions; the truth is a linear rule of the latents; the supervisor
    (the weak head's logit z) is right everywhere but one region, where it is inverted."""
    rng = np.random.default_rng(seed)
    latent = rng.normal(size=(n, 4))
    x = latent @ rng.normal(size=(4, d)) + rng.normal(size=(n, d))
    x = (x - x.mean(0)) / x.std(0)
    truth = (latent @ np.array([1.0, -0.5, 0.5, 0.0]) > 0).astype(int)
    regions = rng.integers(0, n_regions, n)
    says = np.where(regions == inverted_region, 1 - truth, truth)
    z = np.where(says == 1, 2.5, -2.5) + rng.normal(0, 0.5, n)
    return x, truth, regions, z


def few_gold(regions, per_region, seed=0):
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.choice(np.flatnonzero(regions == r), per_region, replace=False)
                           for r in np.unique(regions)])


def test_an_inverted_region_is_learned_from_a_handful_of_gold():
    x, truth, regions, z = world(600)
    gold = few_gold(regions, 2)  # 6 labels
    model = MistakeModel.tuned(MistakeConfig(), 3, z[gold], regions[gold], x[gold], truth[gold])
    slope = model.mean[0] + model.mean[2:5]  # a0 + a_r per region
    assert slope[2] < 0 < min(slope[0], slope[1])
    rest = np.setdiff1d(np.arange(600), gold)
    right = (model.logits(z[rest], regions[rest], x[rest]) > 0) == truth[rest]
    assert right[regions[rest] == 2].mean() > 0.95
    assert right.mean() > 0.95  # against 2/3 for the supervisor
    assert model.config.region_sd >= 2.0  # the evidence chose a loose region prior


def test_a_supervisor_that_is_right_is_left_alone():
    x, truth, regions, z = world(600, inverted_region=-1)
    gold = few_gold(regions, 4)
    model = MistakeModel.tuned(MistakeConfig(), 3, z[gold], regions[gold], x[gold], truth[gold])
    logits = model.logits(z, regions, x)
    assert np.mean((logits > 0) == (z > 0)) > 0.99
    assert model.mean[0] + model.mean[2:5].min() > 0.8  # every region's slope stays near 1


def test_no_gold_means_the_weak_head():
    x, _, regions, z = world(50)
    model = MistakeModel(MistakeConfig(), 3, x.shape[1]).fit(z[:0], regions[:0], x[:0],
                                                             np.zeros(0))
    assert model.logits(z, regions, x) == pytest.approx(z)


def test_without_regions_the_features_find_the_mistake():
    """No categories: the inverted items share a feature direction, which the
    feature terms of the slope pick up from more gold."""
    rng = np.random.default_rng(1)
    n, d = 800, 8
    x = rng.normal(size=(n, d))
    truth = (x[:, 1] + 0.5 * x[:, 2] > 0).astype(int)
    inverted = x[:, 0] > 0.5
    z = np.where(np.where(inverted, 1 - truth, truth) == 1, 2.5, -2.5)
    gold = rng.choice(n, 60, replace=False)
    none = -np.ones(n, int)
    model = MistakeModel.tuned(MistakeConfig(), 0, z[gold], none[gold], x[gold], truth[gold])
    rest = np.setdiff1d(np.arange(n), gold)
    right = (model.logits(z[rest], none[rest], x[rest]) > 0) == truth[rest]
    supervisor = (z[rest] > 0) == truth[rest]
    assert right.mean() > supervisor.mean() + 0.1


def test_the_posterior_is_surest_where_the_gold_is():
    x, truth, regions, z = world(600)
    gold = np.flatnonzero(regions != 2)[:20]  # no gold in the inverted region
    # the posterior itself (the guard would keep the prior's mean: all 20 labels agree)
    model = MistakeModel.tuned(MistakeConfig(guard=False), 3, z[gold], regions[gold], x[gold],
                               truth[gold])
    sd = model.logit_sd(z, regions, x)
    # P(the truth differs from the supervisor's label) under the posterior
    flip = 0.5 * (1 + np.vectorize(erf)(-np.sign(z) * model.logits(z, regions, x) / sd / np.sqrt(2)))
    assert flip[regions == 2].mean() > 1.25 * max(flip[regions == r].mean() for r in (0, 1))
    draws = model.draws(z[:40], regions[:40], x[:40], 4000, seed=0)
    err = np.abs(draws.mean(0) - model.logits(z[:40], regions[:40], x[:40]))
    assert (err < 5 * sd[:40] / np.sqrt(4000)).all()
    assert draws.std(0) == pytest.approx(sd[:40], rel=0.1)
    # jointly: the draws' covariance is the posterior's (Matheron's rule, no m x m root)
    cov = model.covariance(model.design(z[:40], regions[:40], x[:40]))
    scale = np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert np.abs(np.cov(draws.T) - cov).max() < 0.1 * scale.max()


def test_spreads_set_by_hand_are_kept():
    assert MistakeConfig().tune and not MistakeConfig(region_sd=2.0).tune
    assert MistakeConfig(region_sd=2.0, tune=False).region_sd == 2.0
    with pytest.raises(ValueError, match="tune=false to keep region_sd"):
        MistakeConfig(region_sd=2.0, tune=True)
    again = MistakeConfig.model_validate(MistakeConfig().model_dump())  # a logged config
    assert again == MistakeConfig()


def test_state_round_trip():
    x, truth, regions, z = world(100)
    model = MistakeModel(MistakeConfig(region_sd=0.5), 3, x.shape[1]).fit(
        z[:30], regions[:30], x[:30], truth[:30])
    again = MistakeModel.from_state(model.state())
    assert again.logits(z, regions, x) == pytest.approx(model.logits(z, regions, x))
    assert again.logit_sd(z, regions, x) == pytest.approx(model.logit_sd(z, regions, x))


def test_supervisor_accuracy_per_region_with_intervals():
    x, truth, regions, z = world(600)
    gold = few_gold(regions, 4)
    model = MistakeModel.tuned(MistakeConfig(), 3, z[gold], regions[gold], x[gold], truth[gold])
    said = (z > 0).astype(int)
    est = model.supervisor_accuracy(z, regions, x, said, n_draws=300)
    for r, (mean, lo, hi) in est.items():
        true = np.mean(said[regions == r] == truth[regions == r])
        assert lo <= mean <= hi
        assert lo - 0.1 <= true <= hi + 0.1  # soft: each item keeps some doubt
    assert est[2][0] < 0.5 < min(est[0][0], est[1][0])


def test_contrast_pairs_teach_the_mistake_before_any_gold():
    """The weak head follows a surface cue more than the content; truth-keeping edits
    that toggle the cue move it. With no gold, the pairs alone move the truth logit
    off the cue and onto the content; with pair_sd None they are ignored."""
    from w2s.agent.training.mistakes import Pairs

    rng = np.random.default_rng(1)
    n = 400
    cue, content = rng.choice([-1.0, 1.0], n), rng.choice([-1.0, 1.0], n)
    x = np.column_stack([cue, content, rng.normal(size=(n, 6))])
    z = 2.0 * cue + 1.0 * content  # the weak head: mostly the cue
    x_edit = x.copy()
    x_edit[:, 0] *= -1
    z_edit = -2.0 * cue + 1.0 * content
    regions = np.zeros(n, int)
    pairs = Pairs(z, z_edit, regions, x, x_edit, np.zeros(n, bool))
    none = np.zeros(0)

    def accuracy(config):
        model = MistakeModel(config, 1, x.shape[1]).fit(none, none.astype(int), x[:0], none,
                                                         pairs)
        return np.mean((model.logits(z, regions, x) > 0) == (content > 0))

    supervisor = np.mean((z > 0) == (content > 0))
    assert supervisor < 0.8
    assert accuracy(MistakeConfig(pair_sd=None)) == supervisor
    assert accuracy(MistakeConfig()) == supervisor  # off by default
    assert accuracy(MistakeConfig(pair_sd=0.5)) > 0.95
    # and the posterior knows the cue's flips are no evidence of the truth: tuned too
    tuned = MistakeModel.tuned(MistakeConfig(pair_sd=0.5), 1, none, none.astype(int), x[:0], none, pairs)
    assert np.mean((tuned.logits(z, regions, x) > 0) == (content > 0)) > 0.95


def test_pairs_alone_never_buy_trusting_nothing():
    """Truth-keeping edits move the weak head while the features do not show why: the
    pairs cannot be explained away. Trusting nothing (a = b = 0) would meet them
    exactly and leave a truth head with no signal; the trust terms stay the prior's,
    so the truth head keeps the supervisor's verdict."""
    from w2s.agent.training.mistakes import Pairs

    rng = np.random.default_rng(2)
    n = 300
    content = rng.choice([-1.0, 1.0], n)
    x = np.column_stack([content, rng.normal(size=(n, 5))])
    z = 2.0 * content + rng.normal(size=n)
    z_edit = z + rng.choice([-2.0, 2.0], n)  # the surface moved it; x did not change
    regions = np.zeros(n, int)
    none = np.zeros(0)
    model = MistakeModel(MistakeConfig(pair_sd=0.5), 1, x.shape[1]).fit(
        none, none.astype(int), x[:0], none, Pairs(z, z_edit, regions, x, x.copy(),
                                                    np.zeros(n, bool)))
    logits = model.logits(z, regions, x)
    supervisor = np.mean((z > 0) == (content > 0))
    assert np.mean((logits > 0) == (content > 0)) >= supervisor - 0.02
    assert np.abs(logits).mean() > 1  # not a truth logit of 0 everywhere
    assert model.mean[0] == pytest.approx(1.0, abs=0.05)  # a0: the pairs left trust alone
