"""Oracles behind one interface: ground truth, weak models, humans."""

from w2s._lazy import exports

_FROM = {**dict.fromkeys(["Answer", "Oracle", "OracleStopped", "Recorder", "ask"],
                         ".base"),
         **dict.fromkeys(["GroundTruthOracle", "NoisySupervisor"], ".ground_truth"),
         **dict.fromkeys(["ORACLES", "Kind", "OracleContext", "OracleSpec", "kind",
                          "make_oracle"], ".registry")}
__all__ = list(_FROM)
__getattr__, __dir__ = exports(__name__, _FROM)
