"""Query strategies: which pool items to buy gold labels for. One small class each,
behind one interface (higher score = ask sooner), chosen by name; then a batch is
picked with diversity so it is not twenty copies of the same item."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np


@dataclass
class PoolView:
    """What a strategy may look at: the student's heads on the pool, the weak
    labels, features, and check violations. Never gold."""
    p_weak: np.ndarray  # weak head, P(label 1)
    p_true: np.ndarray  # truth head, P(label 1)
    weak_labels: np.ndarray  # P(label 1) from the weak supervisor, nan where none
    categories: np.ndarray
    features: np.ndarray | None = None
    checks: dict[str, np.ndarray] = field(default_factory=dict)  # check name -> violation
    rng: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    has_gold: np.ndarray | None = None  # bought already (whether, never which label)
    # posterior sd of the truth head's logit (the mistake model's), None without one
    truth_sd: np.ndarray | None = None


class Strategy:
    name: ClassVar[str]

    def score(self, pool: PoolView) -> np.ndarray:
        raise NotImplementedError


class Random(Strategy):
    name = "random"

    def score(self, pool):
        return pool.rng.random(len(pool.p_true))


class Entropy(Strategy):
    name = "entropy"

    def score(self, pool):
        return _entropy(np.clip(pool.p_true, 1e-7, 1 - 1e-7))


class Margin(Strategy):
    """1 - |p - (1-p)|. For two labels it ranks like entropy; kept for familiarity."""
    name = "margin"

    def score(self, pool):
        return 1 - np.abs(2 * pool.p_true - 1)


class HeadDisagreement(Strategy):
    """|p_weak - p_true|: where the student predicts the supervisor is wrong."""
    name = "disagreement"

    def score(self, pool):
        return np.abs(pool.p_weak - pool.p_true)


class SupervisorError(Strategy):
    """|weak label - p_true|: the student's predicted error of the label actually given."""
    name = "supervisor-error"

    def score(self, pool):
        weak = np.where(np.isnan(pool.weak_labels), pool.p_weak, pool.weak_labels)
        return np.abs(weak - pool.p_true)


class CheckViolation(Strategy):
    """The largest violation score any enabled check gave the item."""
    name = "check-violation"

    def __init__(self, checks: list[str] | None = None):
        self.only = checks

    def score(self, pool):
        scores = [v for k, v in pool.checks.items() if self.only is None or k in self.only]
        if not scores:
            return np.zeros(len(pool.p_true))
        # fmax skips NaN: a check that did not look at an item says nothing about it
        return np.nan_to_num(np.fmax.reduce(np.stack(scores), axis=0))


class VariantDisagreement(CheckViolation):
    """Spread of the truth head across the cross-examination variants."""
    name = "variant-disagreement"

    def __init__(self):
        super().__init__(["cross-examination"])


class MistakeUncertainty(Strategy):
    """Where the mistake model is least sure whether the supervisor is wrong, for lack
    of gold rather than by nature: the information a label would give about the mistake
    model's parameters (BALD, Houlsby et al. 2011), under its Gaussian posterior of the
    truth logit. Without a posterior (another method): the truth head's entropy."""
    name = "mistake-uncertainty"
    _nodes, _weights = np.polynomial.hermite_e.hermegauss(24)

    def score(self, pool):
        if pool.truth_sd is None:
            return Entropy().score(pool)
        from scipy.special import expit  # no overflow warning for very negative logits
        z = _logit(pool.p_true)[:, None] + pool.truth_sd[:, None] * self._nodes[None, :]
        q = np.clip(expit(z), 1e-12, 1 - 1e-12)
        w = self._weights / self._weights.sum()
        return _entropy(q @ w) - _entropy(q) @ w


class HypothesisDisagreement(Strategy):
    """Where the hypotheses about the supervisor's mistakes that survive the evidence
    still disagree on the truth: the share of the mistake model's posterior (a
    committee of its draws, as in query-by-committee) on the minority side of the
    item's label. Contrast pairs narrow the posterior for free, so after the
    student's experiments gold goes where they settled nothing. Without a
    posterior: the truth head's margin."""
    name = "hypothesis-disagreement"

    def score(self, pool):
        if pool.truth_sd is None:
            return Margin().score(pool)
        from scipy.special import ndtr
        share = ndtr(_logit(pool.p_true) / np.maximum(pool.truth_sd, 1e-9))
        return np.minimum(share, 1 - share)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-7, 1 - 1e-7)
    return np.log(p) - np.log1p(-p)


def _entropy(p: np.ndarray) -> np.ndarray:
    return -(p * np.log(p) + (1 - p) * np.log1p(-p))


class CoverageFirst(Strategy):
    """Cover the regions first (in the spirit of TypiClust and ProbCover): every cell
    (category, or cluster of features when there are no categories, by weak label)
    gets `per_cell` gold labels on its most typical items, those with the densest
    neighbourhood; after that, `then` decides."""
    name = "coverage-first"

    def __init__(self, per_cell: int = 1, then: str = "mistake-uncertainty",
                 clusters: int = 8, neighbours: int = 10):
        self.per_cell, self.then = per_cell, make_strategy(then)
        self.clusters, self.neighbours = clusters, neighbours

    def cells(self, pool: PoolView) -> np.ndarray:
        weak = np.where(np.isnan(pool.weak_labels), pool.p_weak, pool.weak_labels) > 0.5
        regions = pool.categories
        if len(set(regions)) <= 1 and pool.features is not None:
            from sklearn.cluster import KMeans
            k = min(self.clusters, len(regions))
            regions = KMeans(k, n_init=3, random_state=0).fit_predict(_standard(pool.features))
        _, cell = np.unique([f"{r}|{w}" for r, w in zip(regions, weak)], return_inverse=True)
        return cell

    def score(self, pool):
        base = self.then.score(pool)
        ranks = np.argsort(np.argsort(base, kind="stable"), kind="stable") / max(len(base), 1)
        cell = self.cells(pool)
        has_gold = np.zeros(len(cell), bool) if pool.has_gold is None else pool.has_gold
        typical = self.typicality(pool, cell)
        out = ranks.copy()
        for c in np.unique(cell):
            need = self.per_cell - int(has_gold[cell == c].sum())
            members = np.flatnonzero((cell == c) & ~has_gold)
            if need > 0 and len(members):
                best = members[np.argsort(-typical[members], kind="stable")[:need]]
                # emptier cells first, then the more typical item
                out[best] = 2 + need + typical[best] / (1 + typical[best])
        return out

    def typicality(self, pool: PoolView, cell: np.ndarray) -> np.ndarray:
        """1 / mean distance to the nearest neighbours in the same cell (TypiClust)."""
        if pool.features is None:
            return np.zeros(len(cell))
        x = _standard(pool.features)
        out = np.zeros(len(cell))
        for c in np.unique(cell):
            rows = np.flatnonzero(cell == c)
            sq = (x[rows] ** 2).sum(1)
            d = np.sqrt(np.maximum(sq[:, None] + sq[None, :] - 2 * x[rows] @ x[rows].T, 0))
            k = min(self.neighbours, len(rows) - 1)
            if k < 1:
                continue
            near = np.sort(d, axis=1)[:, 1:k + 1].mean(1)
            out[rows] = 1 / (near + 1e-9)
        return out


def _standard(x: np.ndarray) -> np.ndarray:
    return (x - x.mean(0)) / (x.std(0) + 1e-6)


class Mix(Strategy):
    """A weighted sum of other strategies' scores, each turned into ranks in [0, 1]."""
    name = "mix"

    def __init__(self, weights: dict[str, float]):
        if not weights:
            raise ValueError("mix needs weights, e.g. {disagreement = 0.7, entropy = 0.3}")
        self.parts = [(make_strategy(n), w) for n, w in weights.items()]

    def score(self, pool):
        n = len(pool.p_true)
        total = np.zeros(n)
        for strategy, w in self.parts:
            ranks = np.argsort(np.argsort(strategy.score(pool), kind="stable"), kind="stable")
            total += w * ranks / max(n - 1, 1)
        return total


STRATEGIES: dict[str, type[Strategy]] = {s.name: s for s in (
    Random, Entropy, Margin, HeadDisagreement, SupervisorError, CheckViolation,
    VariantDisagreement, MistakeUncertainty, HypothesisDisagreement, CoverageFirst,
    Mix)}


def make_strategy(name: str, params: dict[str, Any] | None = None) -> Strategy:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; known: {', '.join(STRATEGIES)}")
    return STRATEGIES[name](**(params or {}))


def pick(scores: np.ndarray, candidates: np.ndarray, k: int, diversity: str,
         categories: np.ndarray, features: np.ndarray | None = None) -> np.ndarray:
    """Indices of k candidates: the top scores, spread out by `diversity`:
    none; category (round-robin over categories, best first in each);
    kcenter (greedy k-center on features among the 5k best)."""
    candidates = np.asarray(candidates)
    k = min(k, len(candidates))
    if k <= 0:
        return np.zeros(0, int)
    order = candidates[np.argsort(-scores[candidates], kind="stable")]
    if diversity == "none":
        return order[:k]
    if diversity == "category":
        queues = {c: [i for i in order if categories[i] == c] for c in dict.fromkeys(categories[order])}
        out: list[int] = []
        while len(out) < k:
            for q in queues.values():
                if q and len(out) < k:
                    out.append(q.pop(0))
        return np.array(out)
    if diversity == "kcenter":
        if features is None:
            raise ValueError("kcenter diversity needs student features (probe mode)")
        top = order[:5 * k]
        x = _standard(features[top])
        chosen = [0]
        dist = np.linalg.norm(x - x[0], axis=1)
        while len(chosen) < k:
            nxt = int(np.argmax(dist))
            chosen.append(nxt)
            dist = np.minimum(dist, np.linalg.norm(x - x[nxt], axis=1))
        return top[chosen]
    raise ValueError(f"unknown diversity {diversity!r}; known: none, category, kcenter")
