"""Oracles behind one interface: ground truth, weak models, humans."""

from .base import Answer, Oracle, ask
from .ground_truth import GroundTruthOracle

__all__ = ["Answer", "GroundTruthOracle", "Oracle", "ask"]
