"""The ground-truth oracle: gold labels, for simulation. Outside evaluation it is
the only reader of gold, and it reads only the items it is asked about."""

from __future__ import annotations

from collections.abc import Sequence

from w2s.store import Item, Store
from w2s.store.gold import read_gold

from .base import Answer, Oracle


class GroundTruthOracle(Oracle):
    name = "ground-truth"

    def __init__(self, store: Store, cost: float = 1.0):
        self.store = store
        self.cost = cost

    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        gold = read_gold(self.store, item_ids=[i.id for i in items])
        return [Answer(gold[i.id], 1.0) if i.id in gold else None for i in items]
