"""What every loader returns, and the helpers they share."""

from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from ..records import Dataset, Gold, Item


class DataError(ValueError):
    """Bad input, located: which file, which row (1-based data row), which field."""

    def __init__(self, file: str | Path, message: str, row: int | None = None,
                 field: str | None = None):
        self.file, self.row, self.field, self.message = str(file), row, field, message
        where = self.file
        if row is not None:
            where += f", row {row}"
        if field is not None:
            where += f", field {field!r}"
        super().__init__(f"{where}: {message}")


@dataclass
class LoadedDataset:
    dataset: Dataset
    items: list[Item] = field(default_factory=list)
    gold: list[Gold] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # accepted, but worth a look

    def add(self, item: Item, label: int | None) -> None:
        self.items.append(item)
        if label is not None:
            self.gold.append(Gold(item_id=item.id, label=label))


def unit_hash(*parts: object) -> float:
    """A number in [0, 1) fixed by the parts: stable splits and samples."""
    digest = hashlib.sha1("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def hash_split(key: str, test_fraction: float = 0.2) -> str:
    """train/test for sources that ship no split; items sharing a key stay together."""
    return "test" if unit_hash("split", key) < test_fraction else "train"


def seeded_rng(*parts: object) -> random.Random:
    return random.Random(unit_hash("rng", *parts))


def subsample(loaded: LoadedDataset, per_category: int) -> LoadedDataset:
    """At most `per_category` items per (split, category), whole groups, stable choice."""
    groups: dict[tuple[str, str], dict[str, list[Item]]] = defaultdict(dict)
    for item in loaded.items:
        key = (item.split, item.category)
        groups[key].setdefault(item.group_id or item.id, []).append(item)
    keep: set[str] = set()
    for members in groups.values():
        taken = 0
        for group_key in sorted(members, key=lambda g: unit_hash("sample", g)):
            if taken >= per_category:
                break
            keep.update(i.id for i in members[group_key])
            taken += len(members[group_key])
    return LoadedDataset(
        dataset=loaded.dataset,
        items=[i for i in loaded.items if i.id in keep],
        gold=[g for g in loaded.gold if g.item_id in keep],
    )
