"""The DuckDB log of a workspace: every item, query, label, prediction, check,
training round and metric, and the datasets that feed them."""

from .db import DB_FILE, Store, StoreError
from .records import (Campaign, Check, Dataset, Event, Gold, Item, Label, Metric,
                      Prediction, Query, Record, TrainingRound, stable_id)

__all__ = [
    "DB_FILE", "Store", "StoreError", "Campaign", "Check", "Dataset", "Event", "Gold",
    "Item", "Label", "Metric", "Prediction", "Query", "Record", "TrainingRound", "stable_id",
]
