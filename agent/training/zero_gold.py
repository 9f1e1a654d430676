"""The truth head before any gold: what the label-free sources say together.

Three sources vote on every training item: the supervisor's label, the student's
zero-shot answer (its logit cut at the supervisor's share of label 1, so no gold
sets the cut), and a probe on the student's features trained where the first two
agree (a third view). A latent-truth label model (Dawid and Skene, with one
accuracy per source and region, each shrunk toward that source's accuracy over
all regions) gives each item a posterior; three conditionally independent views
make the accuracies identifiable without gold. A small stacker then maps what every
item has (per region the weak head's logit and the zero-shot logit, and the probe's
logit) to that posterior, so the head predicts test items, which have no weak label.
The mistake model starts from it (`center`), so gold adds to it.

Methods (ZeroGoldConfig.method):
  label-model  the above
  agreement    the third view alone: a probe trained where supervisor and zero-shot agree
  weak         the weak head (what w2s did before: "the supervisor is right")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

SOURCES = ("supervisor", "zero-shot", "probe")


class ZeroGoldConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    method: Literal["label-model", "agreement", "weak"] = "label-model"
    # pseudo-items of a source's accuracy over all regions that each region's own
    # accuracy starts from: small regions lean on the whole, large ones on themselves
    strength: float = Field(default=20.0, gt=0)
    iterations: int = Field(default=100, ge=1)
    # the third view's probe reads the features less the weak head's direction
    orthogonal: bool = True


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, np.float64)))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p) - np.log1p(-p)


def cut(zero_shot: np.ndarray, weak: np.ndarray) -> float:
    """The zero-shot logit above which the student says label 1: the quantile that
    gives the supervisor's share of label 1 (no gold; as the experiment's baseline)."""
    return float(np.quantile(zero_shot, 1 - float(np.mean(weak))))


@dataclass
class LabelModel:
    """Per region (index n_regions: items of no region) and source: accuracy; per
    region: the share of label 1. Fit by EM on 0/1 votes [n, sources]."""
    accuracy: np.ndarray  # [n_regions + 1, sources]
    prior: np.ndarray  # [n_regions + 1]
    bounds: np.ndarray | None = None  # [n_regions + 1, sources, 2]: a bootstrap interval

    @staticmethod
    def slot(regions: np.ndarray, n_regions: int) -> np.ndarray:
        regions = np.asarray(regions, int)
        return np.where((regions >= 0) & (regions < n_regions), regions, n_regions)

    @classmethod
    def fit(cls, votes: np.ndarray, regions: np.ndarray, n_regions: int,
            strength: float = 20.0, iterations: int = 100) -> "LabelModel":
        votes = np.asarray(votes, np.float64)
        slot = cls.slot(regions, n_regions)
        q = votes.mean(1)  # start: the share of sources that say 1
        model = cls(np.full((n_regions + 1, votes.shape[1]), 0.7), np.full(n_regions + 1, 0.5))
        for _ in range(iterations):
            right = q[:, None] * votes + (1 - q[:, None]) * (1 - votes)  # P(source right)
            overall = right.mean(0)
            prior_all = q.mean()
            for r in range(n_regions + 1):
                rows = slot == r
                model.accuracy[r] = ((right[rows].sum(0) + strength * overall)
                                     / (rows.sum() + strength))
                model.prior[r] = (q[rows].sum() + strength * prior_all) / (rows.sum() + strength)
            model.accuracy = np.clip(model.accuracy, 0.01, 0.99)
            new = model.posterior(votes, regions, n_regions)
            if np.max(np.abs(new - q)) < 1e-8:
                q = new
                break
            q = new
        return model

    def posterior(self, votes: np.ndarray, regions: np.ndarray, n_regions: int) -> np.ndarray:
        """P(truth = 1) per item from its votes (naive Bayes over the sources)."""
        slot = self.slot(regions, n_regions)
        signs = 2 * np.asarray(votes, np.float64) - 1
        log_odds = _logit(self.prior[slot]) + (signs * _logit(self.accuracy[slot])).sum(1)
        return _sigmoid(log_odds)

    @classmethod
    def with_intervals(cls, votes: np.ndarray, regions: np.ndarray, n_regions: int,
                       strength: float = 20.0, iterations: int = 100, n_boot: int = 100,
                       level: float = 0.95, seed: int = 0) -> "LabelModel":
        """Fit, and bootstrap the items (within each region) for the accuracies' intervals:
        they come from the sources' agreements alone, which a few hundred items pin
        down only to a few points."""
        model = cls.fit(votes, regions, n_regions, strength, iterations)
        slot = cls.slot(regions, n_regions)
        rng = np.random.default_rng(seed)
        draws = []
        for _ in range(n_boot):
            rows = np.concatenate([rng.choice(np.flatnonzero(slot == r), (slot == r).sum())
                                   for r in range(n_regions + 1) if (slot == r).any()])
            draws.append(cls.fit(votes[rows], regions[rows], n_regions, strength,
                                 iterations).accuracy)
        lo, hi = np.quantile(np.stack(draws), [(1 - level) / 2, (1 + level) / 2], axis=0)
        model.bounds = np.stack([lo, hi], -1)
        return model

    def intervals(self) -> np.ndarray:
        """[n_regions + 1, sources, 3]: accuracy, low, high (high = low = accuracy
        without a bootstrap)."""
        bounds = self.bounds if self.bounds is not None else np.stack([self.accuracy] * 2, -1)
        return np.concatenate([self.accuracy[..., None], bounds], -1)


def fit_stacker(regional: np.ndarray, pooled_only: np.ndarray, target: np.ndarray,
                regions: np.ndarray, n_regions: int, shrink: float = 1.0
                ) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression to soft targets: per region, logit = c + beta . regional, each
    region's (c, beta) drawn toward the pooled ones (penalty `shrink` |theta_r - theta|^2),
    plus gamma . pooled_only, the same in every region. Returns ([n_regions + 1, 1 + k]:
    row n_regions the pooled coefficients, which items of no region use; gamma)."""
    import torch

    x = torch.as_tensor(np.hstack([np.ones((len(regional), 1)), regional]), dtype=torch.float64)
    extra = torch.as_tensor(pooled_only, dtype=torch.float64)
    y = torch.as_tensor(np.asarray(target, np.float64))
    slot = torch.as_tensor(LabelModel.slot(regions, n_regions))
    pooled = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    gamma = torch.zeros(extra.shape[1], dtype=torch.float64, requires_grad=True)
    own = torch.zeros((n_regions + 1, x.shape[1]), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([pooled, gamma, own], lr=1, max_iter=500, tolerance_grad=1e-9,
                            tolerance_change=1e-12, history_size=20,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        theta = pooled + own[slot]
        loss = (torch.nn.functional.binary_cross_entropy_with_logits(
            (x * theta).sum(1) + extra @ gamma, y, reduction="sum")
            + 0.5 * shrink * own.square().sum()
            + 0.5 * 1e-3 * (pooled.square().sum() + gamma.square().sum()))
        loss.backward()
        return loss

    opt.step(closure)
    coef = (pooled + own).detach().numpy().copy()
    coef[n_regions] = pooled.detach().numpy()  # no region: the pooled coefficients
    return coef, gamma.detach().numpy().copy()


@dataclass
class ZeroGold:
    """The fitted zero-gold head: method, the zero-shot cut, the third view's probe
    (v, b on the truth head's features), the stacker and the label model."""
    method: str
    threshold: float = 0.0
    probe_v: np.ndarray = field(default_factory=lambda: np.zeros(0))
    probe_b: float = 0.0
    stack: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))  # per region: c, weak, zero-shot
    probe_weight: float = 0.0  # the probe's logit weighs the same in every region
    n_regions: int = 0
    accuracy: np.ndarray = field(default_factory=lambda: np.zeros((0, 3, 3)))

    def probe_logits(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(x, np.float64) @ self.probe_v + self.probe_b

    def logits(self, z: np.ndarray, zero_shot: np.ndarray | None, x: np.ndarray,
               regions: np.ndarray) -> np.ndarray:
        """The zero-gold truth logit. Without zero-shot answers (a reworded prompt of a
        check) the zero-shot input sits at its cut: no vote either way."""
        if self.method == "weak":
            return np.asarray(z, np.float64)
        if self.method == "agreement":
            return self.probe_logits(x)
        past = np.zeros(len(z)) if zero_shot is None else zero_shot - self.threshold
        coef = self.stack[LabelModel.slot(regions, self.n_regions)]
        return (coef[:, 0] + coef[:, 1] * z + coef[:, 2] * past
                + self.probe_weight * self.probe_logits(x))

    def center(self) -> np.ndarray:
        """The label-model head as the mean of the mistake model's prior, whose truth
        logit is design([weak logit, zero-shot past its cut]) @ theta: with no gold the
        mistake model is this head, and gold moves it from here."""
        g, d = self.n_regions, len(self.probe_v)
        pooled, own = self.stack[g], self.stack[:g] - self.stack[g]
        return np.concatenate([[pooled[1], pooled[0] + self.probe_weight * self.probe_b],
                               own[:, 1], own[:, 0], np.zeros(d),
                               self.probe_weight * self.probe_v, [pooled[2]], own[:, 2]])

    def state(self) -> dict[str, np.ndarray]:
        return {"zg_method": np.array(self.method), "zg_threshold": np.array(self.threshold),
                "zg_probe_v": self.probe_v, "zg_probe_b": np.array(self.probe_b),
                "zg_stack": self.stack, "zg_probe_weight": np.array(self.probe_weight),
                "zg_n_regions": np.array(self.n_regions),
                "zg_accuracy": self.accuracy}

    @classmethod
    def from_state(cls, data) -> "ZeroGold":
        if "zg_method" not in data:
            return cls("weak")
        return cls(str(data["zg_method"]), float(data["zg_threshold"]),
                   np.array(data["zg_probe_v"]), float(data["zg_probe_b"]),
                   np.array(data["zg_stack"]), float(data["zg_probe_weight"]),
                   int(data["zg_n_regions"]), np.array(data["zg_accuracy"]))
