"""The training objective of the student's two heads, shared by probe and LoRA modes.

A head's output is one logit per item (of label 1). The weak head imitates the weak
labels; the truth head learns from them through a loss chosen by name, plus any
bought gold labels. A loss names the soft target (and per-item weight) the truth
head is pulled toward, given `anchor`, the truth head's current logits (detached):
minibatch training (LoRA) passes the batch's own logits, full-batch training (the
probe) the logits at the start of each stage.

The auxiliary confidence loss follows Burns et al. 2023 (eq. 1-2): the target mixes
the weak label with the student's own hardened prediction, the hardening threshold
is set per batch so the hardened labels have the weak labels' prior, and the
weight alpha rises linearly from 0 to alpha_max over the first warmup_frac of
training (the paper's schedule; openai/weak-to-strong's code instead ramps to 0.05
and then jumps to 0.5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:  # tensor methods below: reading a config loads no torch
    import torch

Target = "tuple[torch.Tensor, torch.Tensor | None]"  # P(label 1) to learn, per-item weight


class LossConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    alpha_max: float = Field(default=0.5, ge=0, le=1)  # logconf / entropy weight
    warmup_frac: float = Field(default=0.2, ge=0, le=1)
    window_radius: float = Field(default=0.15, gt=0, le=0.5)  # window: "uncertain" band


def alpha(frac: float, config: LossConfig) -> float:
    if config.warmup_frac == 0:
        return config.alpha_max
    return config.alpha_max * min(1.0, frac / config.warmup_frac)


def harden(probs1: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """1 for the `prior` share of the batch most likely to be 1, else 0."""
    probs0 = 1 - probs1
    return (probs0 < probs0.quantile(prior)).float()


def xent(anchor, weak, frac, config) -> Target:
    """Naive: imitate the weak labels."""
    return weak, None


def logconf(anchor, weak, frac, config) -> Target:
    a = alpha(frac, config)
    return (1 - a) * weak + a * harden(anchor.sigmoid(), weak.mean()), None


def entropy(anchor, weak, frac, config) -> Target:
    """Like logconf with the student's soft prediction: an entropy-minimizing pull."""
    a = alpha(frac, config)
    return (1 - a) * weak + a * anchor.sigmoid(), None


def window(anchor, weak, frac, config) -> Target:
    """Learn from the weak label only where the student is still unsure."""
    unsure = (anchor.sigmoid() - 0.5).abs() < config.window_radius
    return weak, unsure.float()


Loss = Callable[..., Target]  # (anchor, weak, frac, LossConfig)
LOSSES: dict[str, Loss] = {"xent": xent, "logconf": logconf, "entropy": entropy,
                           "window": window}
STATIONARY = {"xent"}  # losses whose target does not move with the student


def soft_xent(z: torch.Tensor, p1: torch.Tensor, weight: torch.Tensor | None = None
              ) -> torch.Tensor:
    """Mean cross-entropy of logits z against soft targets P(label 1) = p1."""
    import torch.nn.functional as F

    per_item = F.binary_cross_entropy_with_logits(z, p1.to(z.dtype), reduction="none")
    return per_item.mean() if weight is None else (per_item * weight).sum() / len(z)


def truth_loss(z: torch.Tensor, weak: torch.Tensor, frac: float, name: str,
               config: LossConfig, anchor: torch.Tensor | None = None) -> torch.Tensor:
    anchor = z.detach() if anchor is None else anchor
    return soft_xent(z, *LOSSES[name](anchor, weak, frac, config))


def objective(z_weak: torch.Tensor | None, z_true: torch.Tensor, weak: torch.Tensor,
              gold: torch.Tensor, frac: float, cfg,
              anchor: torch.Tensor | None = None) -> torch.Tensor:
    """Both heads' loss on a batch; cfg is the TrainConfig (method, loss, losses,
    gold_weight).
    weak: P(label 1) from the supervisor; gold: 1/0 bought labels, -1 none. z_weak None:
    the weak head is trained apart. Per item, a bought label weighs gold_weight weak
    labels (a mean over the batch's few gold items would make each outweigh the batch)."""
    loss = z_true.new_zeros(())
    if cfg.method != "gold-only":
        loss = truth_loss(z_true, weak, frac, cfg.loss, cfg.losses, anchor)
    if z_weak is not None:
        loss = loss + soft_xent(z_weak, weak)
    has_gold = gold >= 0
    if has_gold.any() and cfg.gold_weight > 0:
        loss = loss + cfg.gold_weight * soft_xent(
            z_true[has_gold], gold[has_gold].float()) * has_gold.sum() / len(gold)
    return loss
