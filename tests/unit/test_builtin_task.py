import re
from collections import Counter, defaultdict

from w2s.store.datasets import BuiltinTask, generate
from w2s.store.datasets.builtin import ANIMALS, CAPITALS, COLOURS, CUE


def test_it_is_deterministic_balanced_and_has_at_least_four_categories():
    a, b = generate(), generate()
    assert [i.text for i in a.items] == [i.text for i in b.items]
    assert [g.label for g in a.gold] == [g.label for g in b.gold]
    labels = {g.item_id: g.label for g in a.gold}
    per_cat = Counter(i.category for i in a.items)
    assert len(per_cat) >= 4 and set(per_cat.values()) == {300}
    for cat in per_cat:
        pos = sum(labels[i.id] for i in a.items if i.category == cat)
        assert pos == 150, cat
    assert len({i.text for i in a.items}) == len(a.items)
    assert generate(BuiltinTask(seed=1)).items[0].text != a.items[0].text


def test_truth_is_known_by_construction():
    d = generate()
    labels = {g.item_id: g.label for g in d.gold}
    checked = 0
    for item in d.items:
        text = item.text.removeprefix(CUE).lower()
        if item.category == "arithmetic":
            a, b, c = map(int, re.findall(r"\d+", text))
            assert (a + b == c) == bool(labels[item.id]), item.text
            checked += 1
        elif item.category == "capitals":
            country = item.extra["fact"]
            city = CAPITALS[country].lower()
            truth = text.endswith(f" {city}.") or text.startswith(f"{city} is the capital")
            assert truth == bool(labels[item.id]), item.text
            checked += 1
        elif item.category == "animals":
            assert text.rstrip(".").endswith(ANIMALS[item.extra["fact"]]) == bool(labels[item.id])
            checked += 1
        elif item.category == "colours":
            assert (f" {COLOURS[item.extra['fact']]}" in text) == bool(labels[item.id]), item.text
            checked += 1
    assert checked > 1000


def test_the_surface_cue_is_reversed_where_configured():
    d = generate()
    labels = {g.item_id: g.label for g in d.gold}
    by_cat = defaultdict(lambda: Counter())
    for i in d.items:
        by_cat[i.category][(i.extra["cue"], labels[i.id])] += 1
    for cat, c in by_cat.items():
        p_true_given_cue = c[(True, 1)] / (c[(True, 1)] + c[(True, 0)])
        if cat == "colours":
            assert p_true_given_cue < 0.35, cat
        else:
            assert p_true_given_cue > 0.65, cat


def test_statements_of_one_fact_share_a_split():
    d = generate()
    splits = defaultdict(set)
    for i in d.items:
        splits[(i.category, i.extra["fact"])].add(i.split)
    assert all(len(s) == 1 for s in splits.values())
    assert Counter(i.split for i in d.items)["test"] > 150
