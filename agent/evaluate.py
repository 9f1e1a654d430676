"""Scores against gold labels. Evaluation is one of the two readers of gold."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from w2s.store import Item, Store
from w2s.store.gold import read_gold


def accuracy(store: Store, items: Sequence[Item], prob_true: np.ndarray) -> float | None:
    """Accuracy of P(label 1) > 0.5 on the items that have gold; None if none has."""
    gold = read_gold(store, item_ids=[i.id for i in items])
    hits = [int(p > 0.5) == gold[i.id] for i, p in zip(items, prob_true) if i.id in gold]
    return float(np.mean(hits)) if hits else None
