"""One interface for every oracle, and the one way to ask it: through the log."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from w2s.store import Item, Label, Query, Store


@dataclass(frozen=True)
class Answer:
    value: int  # 0 or 1
    confidence: float | None = None  # probability of `value`

    @property
    def p1(self) -> float:
        """P(label 1): the soft label."""
        c = 1.0 if self.confidence is None else self.confidence
        return c if self.value == 1 else 1 - c


class Oracle(ABC):
    name: str
    cost: float = 0.0  # per label

    @abstractmethod
    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        """One answer per item, None where the oracle skips it."""


def ask(store: Store, oracle: Oracle, campaign_id: str, round: int, items: Sequence[Item],
        strategy: str, scores: Sequence[float] | None = None) -> dict[str, Answer]:
    """Buy labels for items and log them. A query already answered in the log is
    not sent again, so a retried or resumed call never pays twice."""
    queries = [Query(campaign_id=campaign_id, round=round, item_id=item.id, oracle=oracle.name,
                     strategy=strategy, score=None if scores is None else float(scores[k]),
                     cost=oracle.cost) for k, item in enumerate(items)]
    store.write(queries)  # pending, unless already there
    ids = [q.id for q in queries]
    known = {q: Answer(v, c) for q, v, c in store.sql(
        "SELECT query_id, value, confidence FROM labels WHERE list_contains(?, query_id)", [ids])}
    todo = [(q, item) for q, item in zip(queries, items) if q.id not in known]
    if todo:
        start = time.monotonic()
        answers = oracle.answer([item for _, item in todo])
        latency = (time.monotonic() - start) / len(todo)
        with store.transaction():
            store.write(Label(query_id=q.id, oracle=oracle.name, value=a.value,
                              confidence=a.confidence, latency_s=latency)
                        for (q, _), a in zip(todo, answers) if a is not None)
            store.set_query_status([q.id for (q, _), a in zip(todo, answers) if a is not None],
                                   "answered")
            store.set_query_status([q.id for (q, _), a in zip(todo, answers) if a is None],
                                   "skipped")
        known.update({q.id: a for (q, _), a in zip(todo, answers) if a is not None})
    return {q.item_id: known[q.id] for q in queries if q.id in known}
