"""Label-free consistency terms for training: hand-computed values, and a probe
trained with the option-group term gets more coherent groups."""

import numpy as np
import pytest
import torch

from w2s.agent.training import TrainConfig
from w2s.agent.training.consistency import ConsistencyData, negation, option_group
from w2s.agent.training.probe import ProbeHeads
from w2s.checks.scores import option_group as group_score


def test_terms_by_hand():
    p = torch.tensor([0.8, 0.8, 0.3, 0.7, 0.5])
    data = ConsistencyData(groups=np.array([0, 0, 1, 1, -1]))
    # group 0 sums to 1.6, group 1 to 1.0 -> mean of 0.36 and 0
    assert option_group(p, None, data).item() == pytest.approx(0.18)
    assert negation(torch.tensor([0.9, 0.2]), torch.tensor([0.9, 0.8]),
                    data).item() == pytest.approx((0.8 ** 2 + 0) / 2)
    with pytest.raises(ValueError, match="unknown consistency term 'vibes'"):
        TrainConfig(consistency=["vibes"])


def test_option_group_term_makes_groups_coherent():
    rng = np.random.default_rng(0)
    n, d = 200, 16
    feats = rng.normal(size=(n, d)).astype(np.float32)
    weak = (rng.random(n) > 0.5).astype(float)  # uninformative weak labels
    groups = np.repeat(np.arange(n // 2), 2)  # pairs: exactly one right
    gold = -np.ones(n, int)

    def violation(cfg):
        heads = ProbeHeads(d).fit(feats, feats, weak, gold, cfg,
                                          ConsistencyData(groups=groups))
        p = heads.predict(feats, feats)[1]
        return np.mean([group_score(p[groups == g])[0] for g in range(n // 2)])

    plain = violation(TrainConfig(loss="xent", probe_c=0.1))
    coherent = violation(TrainConfig(loss="xent", probe_c=0.1, consistency=["option-group"],
                                     consistency_weight=5.0))
    assert coherent < plain / 2


def test_contrast_pair_terms_by_hand():
    from w2s.agent.training.consistency import anti_invariance, invariance

    p = torch.tensor([0.9, 0.2, 0.6])
    data = ConsistencyData(edit_rows=np.array([0, 1, 2, 0]),
                           edit_flips=np.array([False, False, True, True]))
    edits = torch.tensor([0.9, 0.5, 0.4, 0.3])
    # keep pairs: (0.9-0.9)^2, (0.2-0.5)^2; flip pairs: (0.6+0.4-1)^2, (0.9+0.3-1)^2
    assert invariance(p, edits, data).item() == pytest.approx((0 + 0.09) / 2)
    assert anti_invariance(p, edits, data).item() == pytest.approx((0 + 0.04) / 2)
    none = ConsistencyData(edit_rows=np.array([0]), edit_flips=np.array([True]))
    assert invariance(p, torch.tensor([0.1]), none).item() == 0


def test_the_invariance_term_unlearns_a_surface_cue():
    """Weak labels follow a cue feature; edits that toggle the cue, meant to keep the
    truth, teach the truth head to read the content instead."""
    rng = np.random.default_rng(0)
    n, d = 400, 8
    content, cue = rng.choice([-1.0, 1.0], n), rng.choice([-1.0, 1.0], n)
    feats = np.column_stack([cue, content, rng.normal(size=(n, d - 2))]).astype(np.float32)
    # the supervisor follows the cue on 60 % of the items, the content on the rest
    weak = np.where(rng.random(n) < 0.6, cue > 0, content > 0).astype(float)
    edits = feats.copy()
    edits[:, 0] *= -1  # the same items without (or with) the cue
    data = ConsistencyData(edit_rows=np.arange(n), edits=edits,
                           edit_flips=np.zeros(n, bool))
    gold = -np.ones(n, int)

    def accuracy(cfg):
        heads = ProbeHeads(d).fit(feats, feats, weak, gold, cfg, data)
        return np.mean((heads.predict(feats, feats)[1] > 0.5) == (content > 0))

    naive = accuracy(TrainConfig(loss="xent", probe_c=1.0, method="mixed"))
    invariant = accuracy(TrainConfig(loss="xent", probe_c=1.0, consistency=["invariance"],
                                     consistency_weight=10.0))
    assert naive < 0.8 and invariant > 0.95
