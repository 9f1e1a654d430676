"""Trusted labels, kept apart from the rest of the log.

This module is the only reader of the gold table: `Store.sql` and `Store.select`
refuse it. Only the ground-truth oracle and evaluation code import this module, so a
student or a strategy can never peek at gold.
"""

from __future__ import annotations

from collections.abc import Iterable

from .db import Store


def read_gold(store: Store, dataset: str | None = None,
              item_ids: Iterable[str] | None = None) -> dict[str, int]:
    """item id -> gold label, for a dataset or for given items (missing ones are absent)."""
    if item_ids is not None:
        ids = list(item_ids)
        if not ids:
            return {}
        rows = store._execute("SELECT item_id, label FROM gold WHERE list_contains(?, item_id)",
                              [ids])
    elif dataset is not None:
        rows = store._execute("SELECT g.item_id, g.label FROM gold g JOIN items i "
                              "ON i.id = g.item_id WHERE i.dataset = ?", [dataset])
    else:
        raise ValueError("read_gold needs a dataset or item ids")
    return dict(rows)


def count_gold(store: Store, item_ids: Iterable[str]) -> int:
    """How many of the items have a gold label (not which, nor what)."""
    return store._execute("SELECT count(*) FROM gold WHERE list_contains(?, item_id)",
                          [list(set(item_ids))])[0][0]


def gold_per_dataset(store: Store) -> dict[str, int]:
    """Dataset -> how many of its items have a gold label."""
    return dict(store._execute("SELECT i.dataset, count(*) FROM gold g JOIN items i "
                               "ON i.id = g.item_id GROUP BY i.dataset"))
