"""The probe heads: the same fit as scikit-learn's logistic regression, C chosen by
folds that shuffle whole groups, the truth head made by each method."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from w2s.agent.training import TrainConfig
from w2s.agent.training.probe import GRID_C, ProbeHeads, group_folds
from w2s.oracles.weak import tuned_logistic


def sorted_task(n=600, d=40, seed=0):
    """Items sorted by category, as they come out of the store; the label rule
    differs a little per category."""
    rng = np.random.default_rng(seed)
    cats = np.sort(rng.integers(0, 4, n))
    x = rng.normal(size=(n, d))
    w = rng.normal(size=d) / np.sqrt(d)
    logit = 3 * (x @ w) + 0.8 * x[np.arange(n), cats]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), y, cats


def test_same_fit_as_scikit_learn_at_a_given_c():
    x, y, _ = sorted_task(300)
    heads = ProbeHeads(x.shape[1]).fit(x, x, y.astype(float), -np.ones(len(y)),
                                       TrainConfig(loss="xent", method="mixed", probe_c=0.1))
    lr = LogisticRegression(C=0.1, max_iter=5000, tol=1e-8).fit(x, y)
    assert heads.v["true"].numpy() == pytest.approx(lr.coef_[0], abs=2e-3)
    assert float(heads.b["true"]) == pytest.approx(lr.intercept_[0], abs=2e-3)
    assert heads.v["weak"].numpy() == pytest.approx(heads.v["true"].numpy(), abs=1e-6)


def test_the_ceiling_matches_a_tuned_logistic_regression():
    x, y, cats = sorted_task(900, seed=1)
    train, test = np.arange(600), np.arange(600, 900)
    heads = ProbeHeads(x.shape[1]).fit(x[train], x[train], y[train].astype(float),
                                       -np.ones(600), TrainConfig(loss="xent", method="mixed"))
    ours = np.mean((heads.predict(x[test], x[test])[1] > 0.5) == y[test])
    sk = np.mean(tuned_logistic(x[train], y[train], grid=GRID_C).predict(x[test]) == y[test])
    assert ours >= sk - 0.01
    assert heads.chosen["c_true_on"] == "weak labels"  # the targets: gold, as weak labels


def test_folds_shuffle_and_keep_groups_together():
    groups = np.repeat(np.arange(50), 3)  # sorted, as from the store
    folds = group_folds(150, groups, 5, seed=0)
    assert all(len(set(folds[groups == g])) == 1 for g in range(50))
    assert np.bincount(folds).tolist() == [30] * 5
    assert len(set(folds[:30])) > 1  # the first groups are not one fold
    assert not np.array_equal(folds, group_folds(150, groups, 5, seed=1))


def blocks(n=600, d=10, seed=2):
    """Each category's items have their features in a block of their own (as LM states
    tell topics apart): any per-category linear rule is linear in the features. The
    truth is one rule; the supervisor is inverted on category 3."""
    rng = np.random.default_rng(seed)
    cats = np.sort(rng.integers(0, 4, n))
    base = rng.normal(size=(n, d))
    y = (base @ np.linspace(1, -1, d) > 0).astype(int)
    x = np.zeros((n, 4 * d))
    for c in range(4):
        x[cats == c, c * d:(c + 1) * d] = base[cats == c]
    x = (x - x.mean(0)) / x.std(0)
    return x.astype(np.float32), y, cats, np.where(cats == 3, 1 - y, y).astype(float)


def test_truth_head_methods():
    x, y, cats, weak = blocks()
    gold = -np.ones(600, int)
    picked = np.concatenate([np.flatnonzero(cats == c)[:5] for c in range(4)])
    gold[picked] = y[picked]
    acc = {}
    for method in ("mixed", "gold-only", "mistake-model"):
        heads = ProbeHeads(x.shape[1]).fit(x, x, weak, gold, TrainConfig(
            loss="xent", method=method), regions=cats, n_regions=4)
        p_weak, p_true = heads.predict(x, x, cats)
        acc[method] = np.mean((p_true > 0.5) == y)
        assert np.mean((p_weak > 0.5) == weak) > 0.9  # the weak head imitates the supervisor
    assert acc["mistake-model"] > max(acc["mixed"], acc["gold-only"]) + 0.05
    assert acc["mistake-model"] > 0.85 and acc["mixed"] < 0.8


def test_gold_cv_needs_enough_gold():
    x, y, _ = sorted_task(300)
    gold = -np.ones(300, int)
    gold[:6] = y[:6]
    heads = ProbeHeads(x.shape[1]).fit(x, x, y.astype(float), gold,
                                       TrainConfig(loss="xent", method="mixed"))
    assert heads.chosen["c_true_on"] == "weak labels"
    gold[:60] = y[:60]
    heads = ProbeHeads(x.shape[1]).fit(x, x, y.astype(float), gold,
                                       TrainConfig(loss="xent", method="mixed"))
    assert heads.chosen["c_true_on"] == "gold" and heads.chosen["c_true"] in GRID_C


def test_save_and_load(tmp_path):
    x, y, cats = sorted_task(200)
    gold = -np.ones(200, int)
    gold[::10] = y[::10]
    heads = ProbeHeads(x.shape[1]).fit(x, x, y.astype(float), gold, TrainConfig(
        loss="xent", method="mistake-model", probe_c=0.1), regions=cats, n_regions=4)
    heads.save(tmp_path / "h.npz")
    again = ProbeHeads.load(tmp_path / "h.npz")
    for a, b in zip(heads.predict(x, x, cats), again.predict(x, x, cats)):
        assert a == pytest.approx(b)
