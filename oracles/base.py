"""One interface for every oracle, and the one way to ask it: through the log."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from w2s.store import Item, Label, Query, Store, queries


@dataclass(frozen=True)
class Answer:
    value: int  # 0 or 1
    confidence: float | None = None  # probability of `value`

    @property
    def p1(self) -> float:
        """P(label 1): the soft label."""
        c = 1.0 if self.confidence is None else self.confidence
        return c if self.value == 1 else 1 - c


class OracleStopped(Exception):
    """The oracle (a person) stopped labeling; the campaign pauses and can resume."""


class Recorder:
    """Commits each label the moment an oracle gives it: an acknowledged label is in
    the log, whatever happens next."""

    def __init__(self, store: Store, oracle_name: str, queries: dict[str, Query]):
        self.store, self.oracle_name, self.queries = store, oracle_name, queries  # by item id
        self.answers: dict[str, Answer] = {}
        self._clock = time.monotonic()

    def save(self, items: Sequence[Item], answers: Sequence[Answer | None]) -> None:
        latency = (time.monotonic() - self._clock) / max(len(items), 1)
        with self.store.transaction():
            pairs = [(self.queries[i.id], a) for i, a in zip(items, answers)]
            self.store.write(Label(query_id=q.id, oracle=self.oracle_name, value=a.value,
                                   confidence=a.confidence, latency_s=latency)
                             for q, a in pairs if a is not None)
            self.store.set_query_status([q.id for q, a in pairs if a is not None], "answered")
            self.store.set_query_status([q.id for q, a in pairs if a is None], "skipped")
        self.answers.update({i.id: a for i, a in zip(items, answers) if a is not None})
        self._clock = time.monotonic()

    def undo(self, item: Item) -> None:
        """Take back the label (or skip) given for item: the query is pending again."""
        q = self.queries[item.id]
        with self.store.transaction():
            queries.delete_label(self.store, q.id)
            self.store.set_query_status([q.id], "pending")
        self.answers.pop(item.id, None)


class Oracle(ABC):
    name: str
    cost: float = 0.0  # per label
    chunk_size: int = 256  # labels committed together (1 for people)

    @abstractmethod
    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        """One answer per item, None where the oracle skips it."""

    def label(self, items: Sequence[Item], recorder: Recorder) -> None:
        """Answer items, handing each chunk to the recorder as soon as it is known.
        Interactive oracles override this (undo, quit)."""
        label_in_chunks(self, items, recorder)


def label_in_chunks(oracle, items: Sequence[Item], recorder: Recorder) -> None:
    size = getattr(oracle, "chunk_size", 256)
    for start in range(0, len(items), size):
        chunk = items[start:start + size]
        recorder.save(chunk, oracle.answer(chunk))


def ask(store: Store, oracle: Oracle, campaign_id: str, round: int, items: Sequence[Item],
        strategy: str, scores: Sequence[float] | None = None) -> dict[str, Answer]:
    """Buy labels for items and log them. A query already answered in the log is
    not sent again, so a retried or resumed call never pays twice for a label it
    got; each label is committed as it arrives."""
    asked = [Query(campaign_id=campaign_id, round=round, item_id=item.id, oracle=oracle.name,
                   strategy=str(strategy), score=None if scores is None else float(scores[k]),
                   cost=oracle.cost) for k, item in enumerate(items)]
    store.write(asked)  # pending, unless already there
    ids = [q.id for q in asked]
    known = {q: Answer(v, c) for q, (v, c) in queries.answers(store, ids).items()}
    skipped = queries.skipped(store, ids)
    todo = [item for q, item in zip(asked, items) if q.id not in known and q.id not in skipped]
    if todo:
        recorder = Recorder(store, oracle.name, {q.item_id: q for q in asked})
        if isinstance(oracle, Oracle):
            oracle.label(todo, recorder)
        else:  # a user's class with only answer(items)
            label_in_chunks(oracle, todo, recorder)
        known.update({recorder.queries[i].id: a for i, a in recorder.answers.items()})
    return {q.item_id: known[q.id] for q in asked if q.id in known}


