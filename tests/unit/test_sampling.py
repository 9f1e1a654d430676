"""Stable samples and halves keep the options of one question together."""

import pytest

from w2s.agent.items import sample, split_by_group
from w2s.store import Item


def items(sizes):
    return [Item(id=f"i{g}-{k}", dataset="d", split="train", category="c", text="t",
                 group_id=f"g{g}") for g, size in enumerate(sizes) for k in range(size)]


def groups_whole(chosen, pool):
    by_group = {}
    for i in pool:
        by_group.setdefault(i.group_id, set()).add(i.id)
    picked = {i.id for i in chosen}
    return all(ids <= picked or not ids & picked for ids in by_group.values())


def test_a_sample_takes_whole_groups_and_never_more_than_n():
    pool = items([4] * 10 + [3] * 5)
    for n in (5, 12, 22, 37):
        got = sample(pool, n, "salt")
        assert len(got) <= n and groups_whole(got, pool)
        assert got == sample(pool, n, "salt")  # stable
    assert sample(pool, 1000, "salt") == pool


def test_halves_cut_at_the_group_boundary_nearest_the_middle():
    pool = items([1, 5])
    a, b = split_by_group(pool, 0)
    assert sorted([len(a), len(b)]) == [1, 5]  # never an empty half
    pool = items([4] * 10)
    a, b = split_by_group(pool, 3)
    assert len(a) + len(b) == 40 and abs(len(a) - len(b)) <= 4
    assert groups_whole([pool[k] for k in a], pool)
    with pytest.raises(ValueError, match="one group"):
        split_by_group(items([6]), 0)
