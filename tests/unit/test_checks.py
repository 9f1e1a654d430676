"""Each check on hand-built probabilities: a stub trainer stands in for the student
(the real-campaign path is in tests/integration/test_checks_campaign.py)."""

from types import SimpleNamespace

import numpy as np
import pytest

from w2s.agent.student.prompts import Prompter
from w2s.checks import CHECKS
from w2s.store import Dataset, Item


class Tok:
    chat_template = None

    def encode(self, word, add_special_tokens=False):
        return [hash(word) % 1000]


class StubTrainer:
    """Truth head: p_head for the head prompt, p_variant[name] for variant prompts."""

    def __init__(self, items, p_head, p_variant):
        self.prompter = Prompter(Tok())  # the rendering the truth head reads
        self.student = SimpleNamespace(prompter=self.prompter)
        self.p_head, self.p_variant, self.items = p_head, p_variant, items

    def predict(self, version, split):
        return np.zeros(len(self.p_head)), np.array(self.p_head)

    def predict_prompts(self, version, prompts, items):
        out = []
        for prompt in prompts:
            name = ("negated" if "correct answer to it be no" in prompt else
                    "options-swapped" if "Answer No or Yes" in prompt else "reworded")
            k = next(k for k, i in enumerate(self.items) if prompt.startswith(i.text))
            out.append(self.p_variant[name][k])
        return np.array(out)


def ctx_for(p_head, p_variant, groups=None):
    items = [Item(id=f"d:{k}", dataset="d", split="train", category="c", text=f"item {k}",
                  group_id=None if groups is None else groups[k]) for k in range(len(p_head))]
    trainer = StubTrainer(items, p_head, p_variant)
    return SimpleNamespace(pool=items, row_of={i.id: k for k, i in enumerate(items)},
                           dataset=Dataset(name="d", labels=["no", "yes"], question="True?"),
                           trainer=trainer, predict=trainer.predict, campaign_id="c")


STATE = SimpleNamespace(round=1, model_version="c:r0")


def test_consistent_student_scores_zero_everywhere():
    p = [0.9, 0.2]
    ctx = ctx_for(p, {"reworded": p, "options-swapped": p, "negated": [0.1, 0.8]},
                  groups=["g", "g"])
    for name in ("cross-examination", "negation"):
        assert [c.violation for c in CHECKS[name]().run(ctx, STATE)] == pytest.approx([0, 0])
    ctx = ctx_for([0.9, 0.1], {}, groups=["g", "g"])
    (group,) = CHECKS["option-group"]().run(ctx, STATE)
    assert group.violation == pytest.approx(0) and group.item_ids == ["d:0", "d:1"]


def test_known_contradictions_score_as_by_hand():
    ctx = ctx_for([0.9], {"reworded": [0.5], "options-swapped": [0.2], "negated": [0.9]})
    (cross,) = CHECKS["cross-examination"]().run(ctx, STATE)
    # variants read back: 0.9, 0.5, 0.2, 1 - 0.9 = 0.1 -> spread 0.8
    assert cross.violation == pytest.approx(0.8)
    (neg,) = CHECKS["negation"](beta=0.1).run(ctx, STATE)
    # P(yes|q) = 0.9 and P(yes|not q) = 0.9: gap 0.8
    assert neg.violation == pytest.approx(0.8)
    assert neg.details["frequentist"] == pytest.approx(0.8 / np.sqrt(0.09 + 0.09 + 0.1))
    ctx = ctx_for([0.8, 0.8, 0.3], {}, groups=["g", "g", None])
    (group,) = CHECKS["option-group"]().run(ctx, STATE)
    assert group.violation == pytest.approx(0.6) and group.details["margin"] == pytest.approx(0)
