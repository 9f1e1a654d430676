"""Consistency checks: cross-examination, coherence, plausibility. Registry by name;
each scores a batch of items for the student's self-contradictions."""

from __future__ import annotations

CHECKS: dict[str, type] = {}


def run_checks(ctx, state) -> None:
    """Run the checks the campaign's config enables (the checks issue fills the registry)."""
    for spec in ctx.config.checks:
        if spec.name not in CHECKS:
            raise ValueError(f"unknown check {spec.name!r}; known: {', '.join(CHECKS) or 'none yet'}")
        CHECKS[spec.name](**spec.params).run(ctx, state)
