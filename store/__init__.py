"""The DuckDB log of a workspace: every item, query, label, prediction, check,
training round and metric, and the datasets that feed them."""

from w2s._lazy import exports

_FROM = {**dict.fromkeys(["DB_FILE", "Store", "StoreError"], ".db"),
         **dict.fromkeys(["Campaign", "Check", "Contrast", "Dataset", "Event", "Gold", "Item", "Label",
                          "Metric", "Prediction", "Purpose", "Query", "Record",
                          "TrainingRound", "stable_id"], ".records")}
__all__ = [*_FROM, "queries", "versions"]
__getattr__, __dir__ = exports(__name__, _FROM)
