"""Losses for the truth head, chosen by name, on 2-class logits [n, 2].

`weak` is P(label 1) from the weak supervisor, `frac` the fraction of training done.
The auxiliary confidence loss follows Burns et al. 2023 (eq. 1-2): the target mixes
the weak label with the student's own hardened prediction, the hardening threshold
is set per batch so the hardened labels have the weak labels' prior, and the
weight alpha rises linearly from 0 to alpha_max over the first warmup_frac of
training (the paper's schedule; openai/weak-to-strong's code instead ramps to 0.05
and then jumps to 0.5).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field


class LossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alpha_max: float = Field(default=0.5, ge=0, le=1)  # logconf / entropy weight
    warmup_frac: float = Field(default=0.2, ge=0, le=1)
    window_radius: float = Field(default=0.15, gt=0, le=0.5)  # window: "uncertain" band


def _targets(p1: torch.Tensor) -> torch.Tensor:
    return torch.stack([1 - p1, p1], dim=1)


def alpha(frac: float, config: LossConfig) -> float:
    if config.warmup_frac == 0:
        return config.alpha_max
    return config.alpha_max * min(1.0, frac / config.warmup_frac)


def harden(probs1: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """1 for the `prior` share of the batch most likely to be 1, else 0."""
    probs0 = 1 - probs1
    return (probs0 < torch.quantile(probs0, prior)).float()


def xent(logits, weak, frac, config):
    """Naive: imitate the weak labels."""
    return F.cross_entropy(logits, _targets(weak))


def logconf(logits, weak, frac, config):
    a = alpha(frac, config)
    p1 = logits.softmax(-1)[:, 1].detach()
    target = (1 - a) * _targets(weak) + a * _targets(harden(p1, weak.mean()))
    return F.cross_entropy(logits, target)


def entropy(logits, weak, frac, config):
    """Like logconf with the student's soft prediction: an entropy-minimizing pull."""
    a = alpha(frac, config)
    target = (1 - a) * _targets(weak) + a * logits.softmax(-1).detach()
    return F.cross_entropy(logits, target)


def window(logits, weak, frac, config):
    """Learn from the weak label only where the student is still unsure."""
    unsure = logits.softmax(-1).max(-1).values < 0.5 + config.window_radius
    per_item = F.cross_entropy(logits, _targets(weak), reduction="none")
    return (per_item * unsure).sum() / len(logits)


def gold_xent(logits, gold):
    """Cross-entropy on gold labels bought through an oracle."""
    return F.cross_entropy(logits, gold.long())


Loss = Callable[[torch.Tensor, torch.Tensor, float, LossConfig], torch.Tensor]
LOSSES: dict[str, Loss] = {"xent": xent, "logconf": logconf, "entropy": entropy,
                           "window": window}
