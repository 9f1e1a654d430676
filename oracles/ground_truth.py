"""The ground-truth oracle: gold labels, for simulation. Outside evaluation it is
the only reader of gold, and it reads only the items it is asked about."""

from __future__ import annotations

from collections.abc import Sequence

from w2s.store import Item, Store
from w2s.store.datasets.base import unit_hash
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


class NoisySupervisor(GroundTruthOracle):
    """A simulated supervisor with systematic errors, for experiments: wrong on whole
    categories, fooled by a surface cue (answers `cue_label` whenever the text contains
    `cue`), and otherwise flips a `noise` share of answers (the same ones every time)."""

    def __init__(self, store: Store, cost: float = 0.0, wrong_categories: Sequence[str] = (),
                 cue: str | None = None, cue_label: int = 1, noise: float = 0.0,
                 name: str = "noisy"):
        super().__init__(store, cost)
        if not 0 <= noise <= 1:
            raise ValueError(f"noise must be in [0, 1], got {noise}")
        self.wrong, self.cue, self.cue_label, self.noise = set(wrong_categories), cue, cue_label, noise
        self.name = name

    def _truths(self, items: Sequence[Item]) -> list[Answer | None]:
        """Gold; for a text the student wrote from a pool item (a contrast item), the
        truth it was meant to have: its parent's, or the opposite."""
        ids = [i.extra.get("parent_id", i.id) for i in items]
        gold = read_gold(self.store, item_ids=ids)
        return [Answer(gold[p] ^ int(bool(i.extra.get("flips"))), 1.0) if p in gold else None
                for i, p in zip(items, ids)]

    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        out: list[Answer | None] = []
        for item, truth in zip(items, self._truths(items)):
            if truth is None:
                out.append(None)
                continue
            if self.cue is not None and self.cue in item.text:
                value = self.cue_label
            elif item.category in self.wrong:
                value = 1 - truth.value
            elif unit_hash(self.name, item.id) < self.noise:
                value = 1 - truth.value
            else:
                value = truth.value
            out.append(Answer(value, None))
        return out
