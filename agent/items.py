"""Which items a run uses, the same way for a campaign and an experiment: the shared
config section, a stable sample of each split by whole groups, and the seeded halves
(one trains a weak model, the other is the pool or the student's half)."""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field

from w2s.store import Item, Store
from w2s.store.datasets.base import unit_hash


class Selection(BaseModel):
    """The items a campaign and its reference experiment share. Both configs are this
    section plus their own fields; a logged experiment is a campaign's reference when
    this section (with the supervisor, student and training) is equal."""
    dataset: str
    categories: list[str] | None = None  # None: all
    held_out: list[str] = []  # never queried, never trained on; tested apart
    n_train: int | None = Field(default=1200, ge=4)  # half trains a weak model, half the student
    n_test: int | None = Field(default=1000, ge=2)
    max_text_chars: int | None = Field(default=None, ge=1)  # skip longer items (CPU budgets)
    train_split: str = "train"
    test_split: str = "test"

    def selection(self) -> "Selection":
        return Selection(**{k: getattr(self, k) for k in Selection.model_fields})

    def select(self, store: Store) -> tuple[list[Item], list[Item]]:
        """(training items without held-out categories, test items with them)."""
        train = select_items(store, self.dataset, self.train_split, self.n_train,
                             self.categories, self.max_text_chars, exclude=self.held_out)
        tested = None if not self.categories else [*self.categories, *self.held_out]
        test = select_items(store, self.dataset, self.test_split, self.n_test, tested,
                            self.max_text_chars)
        if len(train) < 4 or len(test) < 2:
            raise ValueError(f"{self.dataset}: {len(train)} train and {len(test)} test items "
                             "selected; need at least 4 and 2")
        return train, test


def _groups(items: list[Item]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for k, item in enumerate(items):
        out.setdefault(item.group_id or item.id, []).append(k)
    return out


def sample(items: list[Item], n: int | None, salt: str) -> list[Item]:
    """At most n items, drawn by whole groups (the options of one question stay
    together, or the option-group check and term would have nothing to work on)."""
    if n is None or len(items) <= n:
        return items
    groups = _groups(items)
    taken: list[Item] = []
    for key in sorted(groups, key=lambda g: unit_hash(salt, g)):
        if len(taken) + len(groups[key]) <= n:  # a group that does not fit is passed over
            taken += [items[k] for k in groups[key]]
        if len(taken) == n:
            break
    return taken


def split_by_group(items: list[Item], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of a seeded half and the rest, never splitting a group: the cut goes to
    the group boundary nearest the middle."""
    groups = _groups(items)
    order = [groups[g] for g in np.random.default_rng(seed).permutation(sorted(groups))]
    bounds = np.cumsum([len(g) for g in order])[:-1]  # rows before each later group
    if not len(bounds):
        raise ValueError(f"{len(items)} items form one group; cannot split them in two halves")
    cut = int(np.argmin(np.abs(bounds - len(items) / 2)))
    rows = [k for g in order for k in g]
    return (np.array(rows[:bounds[cut]], dtype=int),
            np.sort(np.array(rows[bounds[cut]:], dtype=int)))


def select_items(store: Store, dataset: str, split: str, n: int | None,
                 categories: list[str] | None, max_chars: int | None,
                 exclude: list[str] = ()) -> list[Item]:
    """A stable sample of a split (the same as `w2s experiment` draws, so the
    student's cached features are shared)."""
    items = store.items(dataset, split=split)
    if categories:
        items = [i for i in items if i.category in categories]
    items = [i for i in items if i.category not in exclude]
    if max_chars:
        items = [i for i in items if len(i.text) <= max_chars]
    return sample(items, n, f"experiment:{split}")
