"""Query strategies, batch diversity and stopping criteria on hand-built pools."""

import numpy as np
import pytest

from w2s.agent.state import CampaignState
from w2s.agent.stopping import make_stopping
from w2s.agent.strategies import STRATEGIES, PoolView, make_strategy, pick


def pool(**kw):
    base = dict(p_weak=np.array([0.9, 0.5, 0.1, 0.8]), p_true=np.array([0.9, 0.5, 0.9, 0.6]),
                weak_labels=np.array([1.0, 0.0, np.nan, 1.0]),
                categories=np.array(["a", "a", "b", "b"]))
    return PoolView(**{**base, **kw})


def test_uncertainty_strategies_prefer_the_unsure_item():
    for name in ("entropy", "margin"):
        s = make_strategy(name).score(pool())
        assert np.argmax(s) == 1
    assert make_strategy("margin").score(pool())[1] == pytest.approx(1.0)


def test_head_disagreement_is_the_predicted_supervisor_error():
    s = make_strategy("disagreement").score(pool())
    assert s == pytest.approx([0.0, 0.0, 0.8, 0.2])
    # against the label actually given (the weak head where there is none)
    s = make_strategy("supervisor-error").score(pool())
    assert s == pytest.approx([0.1, 0.5, 0.8, 0.4])


def test_check_strategies_read_violations():
    checks = {"cross-examination": np.array([0.0, 0.3, np.nan, 0.1]),
              "negation": np.array([0.5, 0.0, 0.0, 0.0]),
              "plausibility": np.array([np.nan, np.nan, 0.4, np.nan])}
    assert make_strategy("check-violation").score(pool(checks=checks)) == pytest.approx(
        [0.5, 0.3, 0.4, 0.1])
    assert make_strategy("variant-disagreement").score(pool(checks=checks)) == pytest.approx(
        [0.0, 0.3, 0.0, 0.1])
    assert make_strategy("check-violation").score(pool()) == pytest.approx([0, 0, 0, 0])


def test_mix_weights_ranks():
    s = make_strategy("mix", {"weights": {"disagreement": 1.0, "entropy": 0.0}}).score(pool())
    assert np.argmax(s) == 2
    with pytest.raises(ValueError, match="weights"):
        make_strategy("mix", {"weights": {}})


def test_random_is_seeded():
    a = make_strategy("random").score(pool(rng=np.random.default_rng(1)))
    b = make_strategy("random").score(pool(rng=np.random.default_rng(1)))
    assert (a == b).all()


def test_unknown_strategy_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown strategy 'oracle'.*random"):
        make_strategy("oracle")
    assert {"random", "entropy", "margin", "disagreement", "check-violation",
            "variant-disagreement", "mix"} <= set(STRATEGIES)


def test_diversity_spreads_a_batch():
    scores = np.array([9, 8, 7, 6, 1, 0.5], float)
    cats = np.array(["a", "a", "a", "a", "b", "c"])
    everything = np.arange(6)
    assert list(pick(scores, everything, 3, "none", cats)) == [0, 1, 2]
    assert list(pick(scores, everything, 3, "category", cats)) == [0, 4, 5]
    assert list(pick(scores, np.array([1, 2, 4]), 2, "none", cats)) == [1, 2]
    feats = np.array([[0, 0], [0, 0.01], [0, 0.02], [5, 5], [0, 0.03], [0, 0.04]], float)
    got = pick(scores, everything, 2, "kcenter", cats, feats)
    assert list(got) == [0, 3]  # the best, then the farthest from it
    assert len(pick(scores, everything[:0], 3, "category", cats)) == 0


def test_stopping_criteria():
    s = CampaignState(campaign_id="c", round=2, gold_spent=10, gold_budget=10)
    assert "budget" in make_stopping("budget").reason(s)
    assert make_stopping("budget").reason(CampaignState(campaign_id="c", gold_budget=None)) is None
    assert make_stopping("max-rounds", {"rounds": 2}).reason(s)
    assert make_stopping("max-rounds", {"rounds": 3}).reason(s) is None
    flat = CampaignState(campaign_id="c", estimates=[0.7, 0.8, 0.801, 0.8005, 0.8])
    assert make_stopping("plateau", {"patience": 3, "delta": 0.002}).reason(flat)
    assert make_stopping("plateau", {"patience": 4, "delta": 0.002}).reason(flat) is None


def test_mistake_uncertainty_wants_the_unsure_posterior_not_the_unsure_item():
    p_true = np.array([0.5, 0.5, 0.95, 0.95])
    sd = np.array([0.01, 3.0, 0.01, 3.0])  # sure it is a coin flip / unsure of everything
    s = make_strategy("mistake-uncertainty").score(pool(p_true=p_true, truth_sd=sd))
    assert np.argmax(s) == 1 and s[0] < 1e-3 and s[2] < 1e-3 and s[3] > s[0]
    # no posterior: the truth head's entropy
    assert np.argmax(make_strategy("mistake-uncertainty").score(pool())) == 1


def test_coverage_first_covers_each_region_and_weak_label_on_typical_items():
    rng = np.random.default_rng(0)
    n = 80
    cats = np.array(["a", "b"] * (n // 2))
    weak = (np.arange(n) % 4 < 2).astype(float)  # both labels in both categories
    feats = rng.normal(size=(n, 5))
    cell = np.flatnonzero(np.arange(n) % 4 == 3)  # category b, weak label 0
    feats[cell[:8]] = 0.05 * rng.normal(size=(8, 5))  # a dense clump...
    feats[7] = 0.0  # ...around item 7: its cell's most typical item
    view = pool(p_weak=weak, p_true=np.full(n, 0.5), weak_labels=weak, categories=cats,
                features=feats, has_gold=np.zeros(n, bool))
    strategy = make_strategy("coverage-first")
    s = strategy.score(view)
    top = np.argsort(-s)[:4]
    assert {(cats[k], weak[k]) for k in top} == {("a", 1.0), ("b", 1.0), ("a", 0.0), ("b", 0.0)}
    assert 7 in top
    # once every cell has gold, the next strategy decides
    has = np.zeros(n, bool)
    has[top] = True
    after = strategy.score(pool(p_weak=weak, p_true=np.full(n, 0.5), weak_labels=weak,
                                categories=cats, features=feats, has_gold=has))
    assert after.max() < 1


def test_hypothesis_disagreement_is_the_posterior_share_on_the_minority_side():
    p_true = np.array([0.5, 0.95, 0.95, 0.6])
    sd = np.array([2.0, 0.1, 20.0, 0.01])
    s = make_strategy("hypothesis-disagreement").score(pool(p_true=p_true, truth_sd=sd))
    assert s[0] == pytest.approx(0.5)  # a coin flip: half the hypotheses each way
    assert s[1] < 1e-6 and s[3] < 1e-6  # every hypothesis agrees (narrow posterior)
    assert 0.4 < s[2] < 0.5  # sure on average, but the hypotheses are far apart
    # narrower posteriors (after contrast pairs) leave less to settle
    assert (make_strategy("hypothesis-disagreement").score(
        pool(p_true=p_true, truth_sd=sd / 4)) <= s + 1e-12).all()
    # no posterior: the truth head's margin
    assert np.argmax(make_strategy("hypothesis-disagreement").score(pool())) == 1
