"""Consistency checks: cross-examination, coherence, plausibility."""
