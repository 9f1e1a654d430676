"""Scores against gold labels. Evaluation is one of the two readers of gold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from w2s.store import Item, Store
from w2s.store.gold import count_gold, read_gold


def correct(store: Store, items: Sequence[Item], prob_true: np.ndarray,
            threshold: float = 0.5) -> np.ndarray:
    """1.0 where (P(label 1) > threshold) matches gold, NaN where an item has no gold."""
    gold = read_gold(store, item_ids=[i.id for i in items])
    return np.array([float(int(p > threshold) == gold[i.id]) if i.id in gold else np.nan
                     for i, p in zip(items, prob_true)])


def all_have_gold(store: Store, item_ids: Sequence[str]) -> bool:
    """Whether every item has gold (a simulation, or a fully labeled file)."""
    return count_gold(store, item_ids) == len(set(item_ids))


def accuracy(store: Store, items: Sequence[Item], prob_true: np.ndarray) -> float | None:
    """Accuracy of P(label 1) > 0.5 on the items that have gold; None if none has."""
    hits = correct(store, items, prob_true)
    return None if np.isnan(hits).all() else float(np.nanmean(hits))


NO_GAP = "undefined: ceiling not above the supervisor"


def pgr(weak: float, strong: float, ceiling: float) -> float:
    """Performance gap recovered: 0 = no better than the supervisor, 1 = the ceiling.
    Undefined (NaN) unless the ceiling is above the supervisor: with no gap to recover,
    a ratio would be noise, or its sign flipped."""
    gap = ceiling - weak
    return float("nan") if gap < 1e-12 else (strong - weak) / gap


def pgr_text(point: float | None, lo: float | None = None, hi: float | None = None) -> str:
    """'+0.42 [+0.10, +0.70]'; says so where PGR or its interval is undefined."""
    def undefined(x):
        return x is None or not np.isfinite(x)

    if undefined(point):
        return NO_GAP
    text = f"{round(point, 2) + 0:+.2f}"  # + 0: no "-0.00"
    if lo is None and hi is None:
        return text
    if undefined(lo) or undefined(hi):
        return f"{text} [interval undefined: the ceiling may not be above the supervisor]"
    return f"{text} [{round(lo, 2) + 0:+.2f}, {round(hi, 2) + 0:+.2f}]"


def pgr_ci(weak: np.ndarray, strong: np.ndarray, ceiling: np.ndarray, n_boot: int = 1000,
           seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """PGR of seed-averaged accuracies, with a bootstrap interval over test items.

    Each argument is [seeds, items] (or [items]) of 0/1 correctness on the same test items;
    resampling items (the same resample for every method and seed) keeps the
    pairing that makes the difference precise. The interval is undefined (NaN) when
    more than its tail share of resamples have the ceiling at or below the supervisor.
    """
    weak, strong, ceiling = (np.atleast_2d(a) for a in (weak, strong, ceiling))
    point = pgr(weak.mean(), strong.mean(), ceiling.mean())
    n = weak.shape[1]
    if n == 0:
        return point, float("nan"), float("nan")
    idx = np.random.default_rng(seed).integers(0, n, (n_boot, n))
    w, s, c = (a[:, idx].mean(axis=(0, 2)) for a in (weak, strong, ceiling))
    gap = c - w
    with np.errstate(divide="ignore", invalid="ignore"):
        draws = np.where(gap < 1e-12, np.nan, (s - w) / gap)
    if np.isnan(point) or np.isnan(draws).mean() > (1 - level) / 2:
        return point, float("nan"), float("nan")
    draws = draws[np.isfinite(draws)]
    lo, hi = np.quantile(draws, [(1 - level) / 2, (1 + level) / 2])
    return point, float(lo), float(hi)
