"""Trusted labels, kept apart from the rest of the log.

Only the ground-truth oracle and evaluation code may import this module; a
unit test enforces that, so a student or a strategy can never peek at gold.
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
        rows = store.sql("SELECT item_id, label FROM gold WHERE list_contains(?, item_id)", [ids])
    elif dataset is not None:
        rows = store.sql("SELECT g.item_id, g.label FROM gold g JOIN items i ON i.id = g.item_id "
                         "WHERE i.dataset = ?", [dataset])
    else:
        raise ValueError("read_gold needs a dataset or item ids")
    return dict(rows)
