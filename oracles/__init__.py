"""Oracles behind one interface: ground truth, weak models, humans."""

from .base import Answer, Oracle, OracleStopped, Recorder, ask, crashpoint
from .ground_truth import GroundTruthOracle, NoisySupervisor
from .registry import ORACLES, OracleContext, OracleSpec, make_oracle

__all__ = ["Answer", "GroundTruthOracle", "NoisySupervisor", "ORACLES", "Oracle",
           "OracleContext", "OracleSpec", "OracleStopped", "Recorder", "ask", "crashpoint",
           "make_oracle"]
