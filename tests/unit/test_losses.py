"""The training objective and the truth-head losses against values computed by hand."""

import math

import pytest
import torch

from w2s.agent.training import TrainConfig
from w2s.agent.training.losses import LOSSES, LossConfig, alpha, harden, objective, truth_loss

CFG = LossConfig(alpha_max=0.5, warmup_frac=0.2, window_radius=0.15)


def loss(name, z, weak, frac):
    return truth_loss(torch.tensor(z), torch.tensor(weak), frac, name, CFG).item()


def ce(p1, t):
    """Cross-entropy of a soft target t against P(label 1) = p1."""
    return -(t * math.log(p1) + (1 - t) * math.log(1 - p1))


def sig(z):
    return 1 / (1 + math.exp(-z))


def test_xent_is_cross_entropy_to_the_weak_label():
    assert loss("xent", [0.0], [1.0], 0.0) == pytest.approx(math.log(2))
    assert loss("xent", [2.0], [0.3], 0.0) == pytest.approx(ce(sig(2), 0.3))


def test_alpha_warms_up_linearly_over_the_first_fifth():
    assert [alpha(f, CFG) for f in (0.0, 0.1, 0.2, 0.5, 1.0)] == pytest.approx(
        [0.0, 0.25, 0.5, 0.5, 0.5])
    assert alpha(0.0, LossConfig(warmup_frac=0.0)) == 0.5


def test_logconf_by_hand():
    z, weak = [2.0, -1.0, 1.0, -3.0], [0.9, 0.1, 0.8, 0.2]
    # weak prior 0.5: the two items the student rates highest are hardened to 1
    hard = [1, 0, 1, 0]
    for frac, a in ((1.0, 0.5), (0.1, 0.25)):
        target = [(1 - a) * w + a * h for w, h in zip(weak, hard)]
        want = sum(ce(sig(v), t) for v, t in zip(z, target)) / 4
        assert loss("logconf", z, weak, frac) == pytest.approx(want, rel=1e-6)
    assert loss("logconf", z, weak, 0.0) == pytest.approx(loss("xent", z, weak, 0.0))


def test_the_anchor_sets_the_target_not_the_logits():
    """Full-batch training hardens the predictions of the stage's start."""
    z, weak = torch.tensor([2.0, -1.0]), torch.tensor([0.5, 0.5])
    anchor = torch.tensor([-1.0, 2.0])  # the other item was rated higher
    got = truth_loss(z, weak, 1.0, "logconf", CFG, anchor).item()
    want = (ce(sig(2.0), 0.25) + ce(sig(-1.0), 0.75)) / 2
    assert got == pytest.approx(want, rel=1e-6)


def test_hardening_matches_the_weak_label_prior():
    torch.manual_seed(0)
    p1 = torch.rand(100)
    for prior in (0.1, 0.3, 0.5, 0.8):
        hard = harden(p1, torch.tensor(prior))
        assert hard.sum().item() == round(100 * prior)
        # and it keeps the student's ranking: every hardened 1 outranks every 0
        assert p1[hard == 1].min() > p1[hard == 0].max()


def test_entropy_pulls_toward_the_students_own_soft_prediction():
    z, weak = [1.0, -2.0], [0.6, 0.4]
    target = [0.5 * w + 0.5 * sig(v) for w, v in zip(weak, z)]
    want = sum(ce(sig(v), t) for v, t in zip(z, target)) / 2
    assert loss("entropy", z, weak, 1.0) == pytest.approx(want, rel=1e-6)


def test_window_learns_only_where_the_student_is_unsure():
    z, weak = [0.1, 5.0], [0.0, 0.0]  # P = 0.525 (unsure), 0.993 (sure)
    assert loss("window", z, weak, 0.0) == pytest.approx(ce(sig(0.1), 0.0) / 2, rel=1e-6)
    assert set(LOSSES) == {"xent", "logconf", "entropy", "window"}


def test_objective_weighs_each_gold_label_like_gold_weight_weak_ones():
    zw, zt = torch.tensor([0.0, 1.0, -1.0, 0.0]), torch.tensor([2.0, 0.0, 0.0, -2.0])
    weak, gold = torch.tensor([1.0, 0.0, 1.0, 0.0]), torch.tensor([1, -1, -1, 0])
    cfg = TrainConfig(loss="xent", gold_weight=3.0)
    weak_part = (sum(ce(sig(v), t) for v, t in zip([0.0, 1.0, -1.0, 0.0], weak.tolist()))
                 + sum(ce(sig(v), t) for v, t in zip([2.0, 0.0, 0.0, -2.0], weak.tolist()))) / 4
    gold_part = 3.0 * (ce(sig(2.0), 1) + ce(sig(-2.0), 0)) / 4
    assert objective(zw, zt, weak, gold, 0.0, cfg).item() == pytest.approx(
        weak_part + gold_part, rel=1e-6)
    only = objective(None, zt, weak, gold, 0.0, cfg.model_copy(update={"method": "gold-only"}))
    assert only.item() == pytest.approx(gold_part, rel=1e-6)
