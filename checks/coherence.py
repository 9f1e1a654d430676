"""Cross-examination and coherence of the truth head."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from w2s.agent.student.variants import NEGATED, VARIANTS

from .base import ConsistencyCheck
from .scores import negation, option_group, spread


class CrossExamination(ConsistencyCheck):
    """The same item asked K ways without shared context; violation = the spread of
    P(label 1) across the variants (negated ones read back)."""
    name = "cross-examination"

    def run(self, view):
        items = view.pool
        p = np.stack([self.truth_probs(view, v, items) for v in (None, *VARIANTS)], 1)
        names = ["head", *(v.name for v in VARIANTS)]
        return [self.record(view, self.name, [i.id], s,
                            probs=dict(zip(names, map(float, row))))
                for i, row, s in zip(items, p, spread(p))]


class Negation(ConsistencyCheck):
    """P(yes | q) + P(yes | not q) = 1; violation = |gap| (frequentist score in details)."""
    name = "negation"

    def __init__(self, beta: float = 0.1):
        self.beta = beta

    def run(self, view):
        items = view.pool
        p_q = self.truth_probs(view, None, items)
        p_not = 1 - self.truth_probs(view, NEGATED, items)  # P(yes | not q)
        gap, freq = negation(p_q, p_not, self.beta)
        return [self.record(view, self.name, [i.id], g, p_q=float(a), p_not_q=float(b),
                            frequentist=float(f))
                for i, a, b, g, f in zip(items, p_q, p_not, gap, freq)]


class OptionGroups(ConsistencyCheck):
    """Items that answer one question (SciQ, MMLU, TruthfulQA options; HH pairs):
    exactly one is right, so the truth head's P(right) should sum to 1 over the group
    with one clear argmax. Violation = |sum - 1|; the group's items share it."""
    name = "option-group"

    def __init__(self, beta: float = 0.1):
        self.beta = beta

    def run(self, view):
        groups = defaultdict(list)
        for item in view.pool:
            if item.group_id:
                groups[item.group_id].append(item)
        groups = {g: members for g, members in groups.items() if len(members) > 1}
        if not groups:
            return []
        members = [i for g in groups.values() for i in g]
        p = dict(zip((i.id for i in members), self.truth_probs(view, None, members)))
        out = []
        for g, items in groups.items():
            probs = np.array([p[i.id] for i in items])
            gap, freq, margin = option_group(probs, self.beta)
            out.append(self.record(view, self.name, [i.id for i in items], gap,
                                   group=g, probs=probs.tolist(), frequentist=freq,
                                   margin=margin))
        return out
