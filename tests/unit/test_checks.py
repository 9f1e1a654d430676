"""Each check on hand-built probabilities: the view's truth head is a table (the
real-campaign path is in tests/integration/test_checks_campaign.py)."""

import numpy as np
import pytest

from w2s.checks import CHECKS, CheckView
from w2s.store import Dataset, Item


def view_for(p_head, p_variant, groups=None):
    """A round's view whose truth head answers p_head as asked, p_variant[name] as each
    variant asks (before a flipped variant is read back)."""
    items = [Item(id=f"d:{k}", dataset="d", split="train", category="c", text=f"item {k}",
                  group_id=None if groups is None else groups[k]) for k in range(len(p_head))]
    row = {i.id: k for k, i in enumerate(items)}

    def truth(variant, asked):
        p = p_head if variant is None else p_variant[variant.name]
        return np.array([p[row[i.id]] for i in asked])

    return CheckView(campaign_id="c", round=1, model_version="c:r0", seed=0,
                     dataset=Dataset(name="d", labels=["no", "yes"], question="True?"),
                     pool=items, truth=truth)


def test_consistent_student_scores_zero_everywhere():
    p = [0.9, 0.2]
    view = view_for(p, {"reworded": p, "options-swapped": p, "negated": [0.1, 0.8]},
                     groups=["g", "g"])
    for name in ("cross-examination", "negation"):
        assert [c.violation for c in CHECKS[name]().run(view)] == pytest.approx([0, 0])
    view = view_for([0.9, 0.1], {}, groups=["g", "g"])
    (group,) = CHECKS["option-group"]().run(view)
    assert group.violation == pytest.approx(0) and group.item_ids == ["d:0", "d:1"]


def test_known_contradictions_score_as_by_hand():
    view = view_for([0.9], {"reworded": [0.5], "options-swapped": [0.2], "negated": [0.9]})
    (cross,) = CHECKS["cross-examination"]().run(view)
    # variants read back: 0.9, 0.5, 0.2, 1 - 0.9 = 0.1 -> spread 0.8
    assert cross.violation == pytest.approx(0.8)
    (neg,) = CHECKS["negation"](beta=0.1).run(view)
    # P(yes|q) = 0.9 and P(yes|not q) = 0.9: gap 0.8
    assert neg.violation == pytest.approx(0.8)
    assert neg.details["frequentist"] == pytest.approx(0.8 / np.sqrt(0.09 + 0.09 + 0.1))
    view = view_for([0.8, 0.8, 0.3], {}, groups=["g", "g", None])
    (group,) = CHECKS["option-group"]().run(view)
    assert group.violation == pytest.approx(0.6) and group.details["margin"] == pytest.approx(0)
