"""Consistency checks: cross-examination, coherence, plausibility. Registry by name;
each scores the pool for the student's self-contradictions and logs them."""

from __future__ import annotations

from .base import VIOLATION, CheckView, ConsistencyCheck  # noqa: F401 (exported)
from .coherence import CrossExamination, Negation, OptionGroups
from .plausibility import Plausibility

CHECKS: dict[str, type[ConsistencyCheck]] = {c.name: c for c in (
    CrossExamination, Negation, OptionGroups, Plausibility)}


def run_checks(view: CheckView, specs) -> dict[str, list]:
    """The checks named in specs (registry names with params), run on one round:
    check name -> its records."""
    out = {}
    for spec in specs:
        if spec.name not in CHECKS:
            raise ValueError(f"unknown check {spec.name!r}; known: {', '.join(CHECKS)}")
        out[spec.name] = CHECKS[spec.name](**spec.params).run(view)
    return out
