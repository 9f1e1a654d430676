"""Consistency checks: cross-examination, coherence, plausibility. Registry by name;
each scores the pool for the student's self-contradictions and logs them."""

from __future__ import annotations

from .base import ConsistencyCheck
from .coherence import CrossExamination, Negation, OptionGroups
from .plausibility import Plausibility

CHECKS: dict[str, type[ConsistencyCheck]] = {c.name: c for c in (
    CrossExamination, Negation, OptionGroups, Plausibility)}


def run_checks(ctx, state) -> None:
    """Run the checks the campaign's config enables and log their scores."""
    for spec in ctx.config.checks:
        if spec.name not in CHECKS:
            raise ValueError(f"unknown check {spec.name!r}; known: {', '.join(CHECKS)}")
        found = CHECKS[spec.name](**spec.params).run(ctx, state)
        ctx.store.write(found)
        if found:
            rate = sum(c.violation > 0.1 for c in found) / len(found)
            ctx.say(f"round {state.round}: {spec.name} checked {len(found)}, "
                    f"{rate:.0%} violate by more than 0.1")
