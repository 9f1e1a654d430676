"""Stopping criteria, one small class each, chosen by name (as in small-text)."""

from __future__ import annotations

from typing import ClassVar

from .state import CampaignState


class StoppingCriterion:
    name: ClassVar[str]

    def reason(self, state: CampaignState) -> str | None:
        """Why to stop now, or None to go on."""
        raise NotImplementedError


class BudgetExhausted(StoppingCriterion):
    name = "budget"

    def reason(self, state):
        if state.gold_budget is not None and state.gold_spent >= state.gold_budget:
            return f"gold budget spent ({state.gold_spent} of {state.gold_budget} labels)"
        if state.pool_exhausted:
            return "no unlabeled pool items left"
        return None


class Plateau(StoppingCriterion):
    """The student's estimated accuracy (no gold) moved less than `delta` over the
    last `patience` rounds."""
    name = "plateau"

    def __init__(self, patience: int = 3, delta: float = 0.002):
        self.patience, self.delta = patience, delta

    def reason(self, state):
        est = state.estimates
        if len(est) <= self.patience:
            return None
        recent = est[-self.patience - 1:]
        if max(recent) - min(recent) < self.delta:
            return f"estimated accuracy flat within {self.delta} for {self.patience} rounds"
        return None


class MaxRounds(StoppingCriterion):
    name = "max-rounds"

    def __init__(self, rounds: int = 10):
        self.rounds = rounds

    def reason(self, state):
        return f"{self.rounds} rounds done" if state.round >= self.rounds else None


STOPPING: dict[str, type[StoppingCriterion]] = {c.name: c for c in (
    BudgetExhausted, Plateau, MaxRounds)}


def make_stopping(name: str, params: dict | None = None) -> StoppingCriterion:
    if name not in STOPPING:
        raise ValueError(f"unknown stopping criterion {name!r}; known: {', '.join(STOPPING)}")
    return STOPPING[name](**(params or {}))
