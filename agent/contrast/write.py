"""The student writes contrast items and checks them; each batch is logged as it is
done, so a killed run goes on from the next one (the same greedy text comes back)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np

from w2s.store import Contrast, Dataset, Item, Store, queries

from ..student import Head, Student
from ..student.engines import Track, no_track
from .edits import EDITS, clean, threshold, validate

BATCH = 32  # contrasts written, checked and logged together


def as_item(contrast: Contrast, parent: Item) -> Item:
    """A contrast as an item an oracle can label (its id is the contrast's)."""
    return Item(id=contrast.id, dataset=parent.dataset, split="contrast",
                category=parent.category, text=contrast.text,
                group_id=parent.group_id or parent.id, question=parent.question,
                extra={"parent_id": parent.id, "edit": contrast.edit,
                       "flips": contrast.flips})


@contextmanager
def opened(student: Student) -> Iterator[Student]:
    """The student's engine, started here unless it already runs (and then left so)."""
    start = student.engine is None
    if start:
        student.open()
    try:
        yield student
    finally:
        if start:
            student.close()


def write_contrasts(student: Student, store: Store, campaign_id: str, round: int,
                    parents: Sequence[Item], dataset: Dataset, edits: Sequence[str],
                    seed: int, max_tokens: int = 64,
                    say: Callable[[str], None] = lambda _: None,
                    track: Track = no_track) -> list[Contrast]:
    """Every edit of every parent, written by the student (its generate engine, open),
    validated by its own zero-shot judgement of the truth, and logged; returns the
    valid ones of the round."""
    done = queries.contrast_ids(store, campaign_id, round)
    todo = [(p, e) for p in parents for e in edits
            if Contrast.make_id(campaign_id, round, p.id, e, seed) not in done]
    if todo:
        truth = student.predict(parents, dataset, [Head.true])[Head.true]
        cut = threshold(truth)  # over all parents, so a resumed run cuts alike
        truth_of = dict(zip((p.id for p in parents), truth))
        say(f"writing {len(todo)} contrast items ({', '.join(edits)}) "
            f"for {len(parents)} pool items")
        advance = track("contrast items", len(todo))
        for start in range(0, len(todo), BATCH):
            chunk = todo[start:start + BATCH]
            store.write(_write(student, campaign_id, round, chunk, dataset, seed, max_tokens,
                               truth_of, cut))
            advance(len(chunk))
            say(f"contrast items: {min(start + BATCH, len(todo))} of {len(todo)} written")
    ids = {Contrast.make_id(campaign_id, round, p.id, e, seed) for p in parents for e in edits}
    return [c for c in queries.contrasts(store, campaign_id, round, valid=True) if c.id in ids]


def _write(student: Student, campaign_id: str, round: int, chunk: list[tuple[Item, str]],
           dataset: Dataset, seed: int, max_tokens: int, truth_of: dict[str, float],
           cut: float) -> list[Contrast]:
    prompts = [student.prompter.render(p.text, EDITS[e].instruction) for p, e in chunk]
    written = [""] * len(chunk)
    for start, texts in student.engine.generate(prompts, max_tokens):
        written[start:start + len(texts)] = [clean(t) for t in texts]
    drafts = [Item(id=f"draft:{k}", dataset=p.dataset, split="contrast", category=p.category,
                   text=w or p.text, question=p.question)
              for k, ((p, _), w) in enumerate(zip(chunk, written))]
    truth = student.predict(drafts, dataset, [Head.true])[Head.true]
    out = []
    for (parent, edit), text, prompt, t in zip(chunk, written, prompts, truth):
        reason = validate(parent.text, text, EDITS[edit].flips, truth_of[parent.id], float(t),
                          cut)
        out.append(Contrast(
            id=Contrast.make_id(campaign_id, round, parent.id, edit, seed),
            campaign_id=campaign_id, round=round, parent_id=parent.id, edit=edit,
            flips=EDITS[edit].flips, text=text, prompt=prompt, generator=student.model_version,
            seed=seed, status="rejected" if reason else "valid", reason=reason,
            truth_parent=float(truth_of[parent.id]), truth_edit=float(t) if text else None))
    return out


def pick_parents(pool: Sequence[Item], weak: np.ndarray, n: int, seed: int) -> list[Item]:
    """n pool items, spread over categories and weak labels (round robin over the cells,
    random within each)."""
    rng = np.random.default_rng([seed, 16])
    cells: dict[tuple[str, int], list[Item]] = {}
    for k in rng.permutation(len(pool)):
        cells.setdefault((pool[k].category, int(weak[k] > 0.5)), []).append(pool[k])
    order = sorted(cells)
    picked: list[Item] = []
    while len(picked) < min(n, len(pool)):
        for cell in order:
            if cells[cell] and len(picked) < n:
                picked.append(cells[cell].pop())
    return sorted(picked, key=lambda i: i.id)
