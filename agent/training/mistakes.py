"""The student's model of its supervisor's mistakes.

The weak head predicts the label the supervisor would give (logit z). Where the
supervisor is right, the truth is that same label; where it errs, the truth differs,
and how it differs depends on the item. The mistake model says how: the truth
logit is

    a(x) * z + b(x),   a(x) = a0 + a_r + u.x,   b(x) = b0 + b_r + w.x

with x the item's standardized features and r its region (a category, when the
items have them). z keeps its scale: a=1 trusts the supervisor as much as the weak
head is sure of it. It is a Bayesian logistic regression
on gold labels whose prior says "the supervisor is right" (a = 1, b = 0): with no
gold the truth head follows the weak head; a few gold labels in a region where the
supervisor is inverted pull that region's slope below zero; the feature terms let
a mistake that follows no region be learned, and carry what gold teaches about
the truth directly. The Laplace approximation of the posterior gives each
prediction an interval.

Contrast pairs (an item and an edit of it the student wrote, meant to keep its
truth or to flip it) are evidence too, and need no gold: the truth logit should
not move across a truth-keeping edit, and should change sign across a flipping one.
Each pair adds a Gaussian pseudo-observation of that difference (sd `pair_sd`) to
the feature terms. Where the weak head moves with a truth-keeping edit (the
supervisor follows the surface), they learn to cancel the move, and so take the
surface's part out of the weak head's verdict (items in a region that follows the
surface lose trust through u.x), before any gold is bought.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class MistakeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    slope_sd: float = Field(default=1.0, gt=0)  # prior sd of a0 around 1 and b0 around 0
    region_sd: float = Field(default=0.5, ge=0)  # prior sd of a region's own a_r and b_r
    # prior sd of w.x and of u.x for a typical item (logit units; u.x multiplies z). On the built-in
    # task, 1 learned too slowly and 6-10 did best from 20 gold labels on (the
    # gold-efficiency bench); region terms looser than 0.5 overfit two labels a region
    feature_sd: float = Field(default=6.0, ge=0)
    # choose region_sd and feature_sd from GRID by the evidence of the gold (Laplace):
    # an inversion a few labels show in one region wants a loose region prior, a
    # supervisor whose errors follow the features wants loose feature terms
    tune: bool = True
    # sd (logits) of the truth logit's change across a truth-keeping contrast pair (of
    # the sum across a truth-flipping one): how firmly the pairs constrain the model;
    # None: the pairs are not used. Off by default: on the built-in task (bench/contrast.py,
    # 0.5) the feature terms overfit ~90 pairs in 1,536 dimensions and took the truth head
    # at 0 gold from 0.60 to 0.48
    pair_sd: float | None = Field(default=None, gt=0)
    # never worse for buying gold: keep the prior belief (the zero-gold head as it is)
    # until the gold's evidence favours the tuned spreads over it, and those spreads
    # predict held-out bought labels better than it does (on the bought labels alone)
    guard: bool = True

    @model_validator(mode="after")
    def _spreads_or_tune(self) -> "MistakeConfig":
        """Spreads set by hand are kept: they turn tuning off unless it is asked for,
        and asking for both is refused (tuning would ignore them)."""
        fixed = {k for k in ("region_sd", "feature_sd") if k in self.model_fields_set
                 and getattr(self, k) != type(self).model_fields[k].default}  # a dump reloads
        if fixed and "tune" not in self.model_fields_set:
            self.tune = False
        elif fixed and self.tune:
            raise ValueError(f"tune picks region_sd and feature_sd from the grid; set "
                             f"tune=false to keep {', '.join(sorted(fixed))}")
        return self


GRID = [(r, f) for r in (0.5, 1.0, 2.0, 4.0) for f in (3.0, 6.0, 10.0)]


@dataclass
class Pairs:
    """Contrast pairs as the mistake model reads them: per pair the weak head's logit,
    region and features of the item and of its edit, and whether the edit flips the
    truth."""
    z: np.ndarray
    z_edit: np.ndarray
    regions: np.ndarray
    x: np.ndarray
    x_edit: np.ndarray
    flips: np.ndarray


class MistakeModel:
    """Fit on gold items: z (weak-head logits), regions (int, -1 none), x (features)."""

    def __init__(self, config: MistakeConfig, n_regions: int, dim: int, n_sources: int = 1,
                 center: np.ndarray | None = None):
        # n_sources > 1: z has a column per source (the weak head's logit first), each
        # weighed over all regions and per region; center: the prior's mean (None: "the
        # first source is right", a = 1, b = 0), e.g. the zero-gold head's coefficients
        self.config, self.n_regions, self.dim = config, n_regions, dim
        self.n_sources, self.center = n_sources, center
        self.mean = self.prior_mean()
        # the evidence's rows: gold (weights p(1-p) at the MAP), then contrast pairs
        # (weights 1 / pair_sd^2); None when there is neither
        self._gold: tuple[np.ndarray, np.ndarray] | None = None
        self._gold_labels = np.zeros(0)
        self._pair_target = np.zeros(0)
        self.kept = False  # the guard kept the prior's mean (see tuned)

    def prior_mean(self) -> np.ndarray:
        if self.center is not None:
            return np.asarray(self.center, np.float64).copy()
        mean = np.zeros(self.n_params)
        mean[0] = 1.0
        return mean

    @property
    def n_params(self) -> int:
        return 2 + 2 * self.n_regions + 2 * self.dim + (self.n_sources - 1) * (1 + self.n_regions)

    def prior_precision(self) -> np.ndarray:
        c, g, d = self.config, self.n_regions, self.dim
        region = 1 / c.region_sd ** 2 if c.region_sd > 0 else 1e12
        # a typical standardized x has |x|^2 = dim: w.x has sd feature_sd when each
        # weight has variance feature_sd^2 / dim
        feature = d / c.feature_sd ** 2 if c.feature_sd > 0 else 1e12
        k = self.n_sources - 1
        return np.concatenate([[1 / c.slope_sd ** 2] * 2, [region] * 2 * g,
                               [feature] * 2 * d, [1 / c.slope_sd ** 2] * k, [region] * k * g])

    def design(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray) -> np.ndarray:
        """[n, params]: the truth logit is design @ theta. z: [n] the belief's logit, or
        [n, n_sources] with each other source's logit after it."""
        z = np.asarray(z, np.float64).reshape(len(z), -1)
        z, others = z[:, :1], z[:, 1:]
        onehot = np.zeros((len(z), self.n_regions))
        known = (regions >= 0) & (regions < self.n_regions)
        onehot[np.flatnonzero(known), regions[known]] = 1
        x = np.asarray(x, np.float64)
        return np.hstack([z, np.ones_like(z), onehot * z, onehot, x * z, x, others,
                          (onehot[:, None, :] * others[:, :, None]).reshape(len(z), -1)])

    def pair_design(self, pairs: "Pairs") -> tuple[np.ndarray, np.ndarray]:
        """([m, params], [m]): the truth logit's change across each pair (item minus
        edit), or its sum for a pair meant to flip the truth, should be 0. Only the
        feature terms answer to the pairs; the trust terms (a0, b0, regions) stay at the
        prior's "the supervisor is right" and their part moves to the target. Pairs alone
        would otherwise be met best by trusting nothing (a = b = 0: a truth logit of 0,
        no change, no signal), which is what they did on the built-in task; through the
        feature terms they explain away the part of the weak head that follows the
        surface instead."""
        sign = np.where(np.asarray(pairs.flips, bool), 1.0, -1.0)[:, None]
        rows = (self.design(pairs.z, pairs.regions, pairs.x)
                + sign * self.design(pairs.z_edit, pairs.regions, pairs.x_edit))
        trust = 2 + 2 * self.n_regions
        target = -rows[:, :trust] @ self.prior_mean()[:trust]
        rows[:, :trust] = 0
        rows[:, trust + 2 * self.dim:] = 0  # the sources' weights are trust terms too
        return rows, target

    def fit(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray, gold: np.ndarray,
            pairs: "Pairs | None" = None, max_iter: int = 500) -> "MistakeModel":
        """MAP by L-BFGS (the posterior is log-concave: one optimum)."""
        import torch

        use = pairs is not None and len(pairs.z) and self.config.pair_sd is not None
        pair_rows, pair_y = (self.pair_design(pairs) if use else
                             (np.zeros((0, len(self.prior_mean()))), np.zeros(0)))
        if len(gold) == 0 and len(pair_rows) == 0:
            self.mean, self._gold = self.prior_mean(), None
            return self
        design = self.design(z, regions, x) if len(gold) else pair_rows[:0]
        j = torch.as_tensor(design)
        jp, yp = torch.as_tensor(pair_rows), torch.as_tensor(pair_y)
        y = torch.as_tensor(np.asarray(gold, np.float64))
        pair_w = 1 / (self.config.pair_sd or 1.0) ** 2
        mu = torch.as_tensor(self.prior_mean())
        prec = torch.as_tensor(self.prior_precision())
        theta = mu.clone().requires_grad_(True)
        opt = torch.optim.LBFGS([theta], lr=1, max_iter=max_iter, tolerance_grad=1e-9,
                                tolerance_change=1e-12, history_size=20,
                                line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = (torch.nn.functional.binary_cross_entropy_with_logits(
                j @ theta, y, reduction="sum") + 0.5 * pair_w * (jp @ theta - yp).square().sum()
                + 0.5 * (prec * (theta - mu) ** 2).sum())
            loss.backward()
            return loss

        opt.step(closure)
        self.mean = theta.detach().numpy().copy()
        p = 1 / (1 + np.exp(-design @ self.mean))
        self._gold = (np.vstack([design, pair_rows]),
                      np.concatenate([p * (1 - p), np.full(len(pair_rows), pair_w)]))
        self._gold_labels = np.asarray(gold, np.float64)
        self._pair_target = pair_y
        return self

    def evidence(self) -> float:
        """Laplace approximation of log p(gold | prior): fit, minus what the prior had
        to bend, minus the price of the posterior's precision (determinant lemma)."""
        if self._gold is None:
            return 0.0
        design, w = self._gold
        y = self._gold_labels
        z = design[:len(y)] @ self.mean
        pairs = design[len(y):] @ self.mean - self._pair_target
        loglik = (float(np.sum(y * z - np.logaddexp(0, z)))
                  - 0.5 * float(np.sum(w[len(y):] * pairs ** 2)))
        d = self.mean - self.prior_mean()
        bend = 0.5 * float(np.sum(self.prior_precision() * d * d))
        root = np.sqrt(w)[:, None] * design
        inner = np.eye(len(w)) + (root / self.prior_precision()) @ root.T
        return loglik - bend - 0.5 * float(np.linalg.slogdet(inner)[1])

    @classmethod
    def tuned(cls, config: MistakeConfig, n_regions: int, z: np.ndarray,
              regions: np.ndarray, x: np.ndarray, gold: np.ndarray,
              pairs: "Pairs | None" = None, center: np.ndarray | None = None) -> "MistakeModel":
        """Fit with the config's spreads, or (tune) with the GRID's best by evidence;
        then the guard (config.guard) keeps the prior's mean unless the gold asks to move."""
        evidence = len(gold) or (pairs is not None and len(pairs.z))
        grid = GRID if config.tune and evidence else [(config.region_sd, config.feature_sd)]
        sources = 1 if np.ndim(z) == 1 else np.shape(z)[1]
        fits = [cls(config.model_copy(update={"region_sd": r, "feature_sd": f}), n_regions,
                    x.shape[1], sources, center).fit(z, regions, x, gold, pairs)
                for r, f in grid]
        scores = [m.evidence() for m in fits]
        best = fits[int(np.argmax(scores))]
        prior = cls(config, n_regions, x.shape[1], sources, center)
        if config.guard and len(gold) and not best._pair_target.size and (
                max(scores) <= prior.staying(z, regions, x, gold)
                or best.held_out_loss(z, regions, x, gold)
                >= prior.held_out_staying(z, regions, x, gold)):
            # the gold does not favour moving away from the belief (staying has no
            # parameters to pay for), or moving does not predict bought labels it has
            # not seen better than staying: the truth head stays where it was
            best.mean, best.kept = best.prior_mean(), True
        return best

    def staying(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray,
                gold: np.ndarray) -> float:
        """log p(gold | the prior's mean): the evidence for "the belief is right as it
        is" (no term moves from the prior's mean), a model with nothing to fit."""
        logit = self.logits(z, regions, x)
        return float(np.sum(np.asarray(gold) * logit - np.logaddexp(0, logit)))

    def held_out_loss(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray,
                      gold: np.ndarray, folds: int = 10) -> float:
        """Log loss on each bought label of this model's spreads fit without it (leave
        one out up to `folds` labels, else that many folds). A lone label against the
        belief never pays here: held out, nothing else asks for the move."""
        n = len(gold)
        fold = np.random.default_rng(n).permutation(n) % min(folds, n)
        loss = 0.0
        for f in range(fold.max() + 1):
            train, held = fold != f, fold == f
            model = type(self)(self.config, self.n_regions, self.dim, self.n_sources,
                               self.center).fit(
                z[train], regions[train], x[train], gold[train])
            logit = model.logits(z[held], regions[held], x[held])
            loss += float(np.sum(np.logaddexp(0, logit) - gold[held] * logit))
        return loss / n

    def held_out_staying(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray,
                         gold: np.ndarray) -> float:
        """The held-out loss of "the belief is right as it is" (nothing fit)."""
        return -self.staying(z, regions, x, gold) / len(gold)

    def logits(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray) -> np.ndarray:
        return self.design(z, regions, x) @ self.mean

    def _through_gold(self, design: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """Woodbury's pieces for rows `design`: (cross [m, n_gold], inner^-1 cross.T); the
        posterior covariance is the prior's minus cross @ that. None without gold."""
        if self._gold is None:
            return None
        lam_inv = 1 / self.prior_precision()
        gold_design, w = self._gold
        cross = (design * lam_inv) @ gold_design.T
        inner = np.diag(1 / np.maximum(w, 1e-12)) + (gold_design * lam_inv) @ gold_design.T
        return cross, np.linalg.solve(inner, cross.T)

    def covariance(self, design: np.ndarray) -> np.ndarray:
        """Posterior covariance of the logits design @ theta (Laplace approximation),
        through the gold items (Woodbury): cheap when gold is scarce."""
        prior = (design / self.prior_precision()) @ design.T
        parts = self._through_gold(design)
        return prior if parts is None else prior - parts[0] @ parts[1]

    def logit_sd(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Posterior sd of each item's truth logit (row by row: no m x m matrix)."""
        design = self.design(z, regions, x)
        var = (design ** 2 / self.prior_precision()).sum(1)
        parts = self._through_gold(design)
        if parts is not None:
            var -= np.einsum("mn,nm->m", *parts)
        return np.sqrt(np.maximum(var, 0))

    def draws(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray, n: int,
              seed: int = 0) -> np.ndarray:
        """[n, items] truth logits drawn from the posterior, jointly across items.

        Parameters are drawn by Matheron's rule (pathwise conditioning): a prior draw,
        moved by what the gold items (with noise of their Laplace weights) say of it.
        The cost grows with the gold, not with the items squared."""
        design = self.design(z, regions, x)
        rng = np.random.default_rng(seed)
        lam_inv = 1 / self.prior_precision()
        delta = rng.standard_normal((n, len(lam_inv))) * np.sqrt(lam_inv)
        if self._gold is not None:
            gold_design, w = self._gold
            w = np.maximum(w, 1e-12)
            noise = rng.standard_normal((n, len(w))) / np.sqrt(w)
            inner = np.diag(1 / w) + (gold_design * lam_inv) @ gold_design.T
            delta -= np.linalg.solve(inner, (delta @ gold_design.T + noise).T).T @ (
                gold_design * lam_inv)
        return (self.mean + delta) @ design.T

    def supervisor_accuracy(self, z: np.ndarray, regions: np.ndarray, x: np.ndarray,
                            said: np.ndarray, n_draws: int = 400, seed: int = 0,
                            level: float = 0.95) -> dict[int, tuple[float, float, float]]:
        """Per region: the share of its items on which the supervisor's label (said, 1/0)
        is the truth, as the model sees it, with a posterior interval."""
        p = 1 / (1 + np.exp(-self.draws(z, regions, x, n_draws, seed)))
        right = np.where(np.asarray(said) == 1, p, 1 - p)
        out = {}
        for r in np.unique(regions):
            share = right[:, regions == r].mean(1)
            lo, hi = np.quantile(share, [(1 - level) / 2, (1 + level) / 2])
            out[int(r)] = (float(share.mean()), float(lo), float(hi))
        return out

    def state(self) -> dict[str, np.ndarray]:
        out = {"mistake_mean": self.mean,
               "mistake_shape": np.array([self.n_regions, self.dim, self.n_sources]),
               "mistake_prior": np.array([self.config.slope_sd, self.config.region_sd,
                                          self.config.feature_sd, self.config.pair_sd or 0])}
        if self.center is not None:
            out["mistake_center"] = self.center
        if self._gold is not None:
            out["mistake_gold_design"], out["mistake_gold_w"] = self._gold
            out["mistake_gold_y"] = self._gold_labels
            out["mistake_pair_target"] = self._pair_target
        return out

    @classmethod
    def from_state(cls, data) -> "MistakeModel":
        slope, region, feature, *pair = (float(v) for v in data["mistake_prior"])
        g, d, *k = (int(v) for v in data["mistake_shape"])
        model = cls(MistakeConfig(slope_sd=slope, region_sd=region, feature_sd=feature,
                                  pair_sd=pair[0] if pair and pair[0] > 0 else None), g, d,
                    k[0] if k else 1, data["mistake_center"] if "mistake_center" in data else None)
        model.mean = np.array(data["mistake_mean"])
        if "mistake_gold_design" in data:
            model._gold = (np.array(data["mistake_gold_design"]), np.array(data["mistake_gold_w"]))
            model._gold_labels = np.array(data["mistake_gold_y"])
            if "mistake_pair_target" in data:
                model._pair_target = np.array(data["mistake_pair_target"])
        return model
