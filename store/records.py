"""One typed record per row kind of the log.

Each record names its table and the columns that make a row unique; the store
writes records with "insert unless that key exists", so a retried write after a
crash never duplicates a row.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator


def now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def stable_id(*parts: object) -> str:
    """A short id that is the same every time for the same parts."""
    return hashlib.sha1("\x1f".join(map(str, parts)).encode()).hexdigest()[:16]


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    table: ClassVar[str]
    key: ClassVar[tuple[str, ...]]


class Dataset(Record):
    table = "datasets"
    key = ("name",)
    name: str
    labels: list[str] = Field(min_length=2, max_length=2)  # index = label value
    question: str  # asked of every item unless the item has its own
    description: str = ""
    source: str = ""
    fingerprint: str = ""  # digest of the imported items and gold labels
    created_at: datetime = Field(default_factory=now)


class Item(Record):
    table = "items"
    key = ("id",)
    id: str  # "<dataset>:<source id>", unique across the workspace
    dataset: str
    split: str
    category: str
    text: str = Field(min_length=1)
    group_id: str | None = None  # items that answer one question, or a pair
    question: str | None = None  # overrides the dataset's question
    extra: dict[str, Any] = Field(default_factory=dict)


class Gold(Record):
    """A trusted label. Only the ground-truth oracle and evaluation read these."""

    table = "gold"
    key = ("item_id",)
    item_id: str
    label: int = Field(ge=0, le=1)


class Purpose(StrEnum):
    """Why a query was asked."""
    PURCHASE = "purchase"  # gold a strategy picked (its name is the query's strategy)
    BULK = "bulk"  # a campaign's weak labels on its pool
    WEAK_TRAINING = "weak-training"  # gold a weak model is fit on
    WEAK_LABELS = "weak-labels"  # an experiment's weak labels on the student's half
    EVALUATION = "evaluation"  # an experiment's weak labels on test items
    CEILING = "ceiling"  # an experiment's gold on the student's half
    CONTRAST = "contrast"  # the weak supervisor's labels on items the student wrote

    @classmethod
    def of(cls, strategy: str) -> "Purpose":
        """A query's purpose from what it was asked for: a purpose, or a strategy's name."""
        return cls(strategy) if strategy in cls._value2member_map_ else cls.PURCHASE


class Campaign(Record):
    """A run: a campaign, or an experiment (which a campaign may use as its reference)."""
    table = "campaigns"
    key = ("id",)
    id: str
    dataset: str
    config: dict[str, Any] = Field(default_factory=dict)
    status: Literal["created", "running", "stopped", "done", "failed"] = "created"
    created_at: datetime = Field(default_factory=now)
    kind: Literal["campaign", "experiment"] = "campaign"


class Query(Record):
    table = "queries"
    key = ("campaign_id", "round", "item_id", "oracle")
    campaign_id: str
    round: int = Field(ge=0)
    item_id: str
    oracle: str
    # the strategy that picked a purchase; for other purposes the purpose again (as
    # logs before schema 4 have it)
    strategy: str
    score: float | None = None
    cost: float = Field(ge=0)
    status: Literal["pending", "answered", "skipped", "failed"] = "pending"
    created_at: datetime = Field(default_factory=now)
    purpose: Purpose = Purpose.PURCHASE  # set from strategy when not given

    @model_validator(mode="before")
    @classmethod
    def _purpose(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("purpose") is None and "strategy" in data:
            return {**data, "purpose": Purpose.of(str(data["strategy"]))}
        return data

    @computed_field
    @property
    def id(self) -> str:
        return stable_id(self.campaign_id, self.round, self.item_id, self.oracle)


class Label(Record):
    table = "labels"
    key = ("query_id",)
    query_id: str
    oracle: str
    value: int = Field(ge=0, le=1)
    confidence: float | None = Field(default=None, ge=0, le=1)
    latency_s: float | None = Field(default=None, ge=0)
    created_at: datetime = Field(default_factory=now)


class Contrast(Record):
    """A text the student wrote by editing a pool item (its parent) to test the
    supervisor: meant to keep the parent's truth or to flip it. Never trained on as an
    item, never evaluated; its id is what its weak label's query names."""
    table = "contrasts"
    key = ("id",)
    id: str  # "contrast:" + stable id of campaign, round, parent, edit and seed
    campaign_id: str
    round: int = Field(ge=0)
    parent_id: str
    edit: str  # an edit's name (agent/contrast/edits.py)
    flips: bool  # meant to flip the truth (else to keep it)
    text: str  # what the student wrote, cleaned ("" if it wrote nothing)
    prompt: str
    generator: str  # the model version that wrote it
    seed: int
    status: Literal["valid", "rejected"]
    reason: str = ""  # why rejected
    # the student's own zero-shot P(label 1) on parent and edit, which validated it
    truth_parent: float | None = None
    truth_edit: float | None = None
    created_at: datetime = Field(default_factory=now)

    @staticmethod
    def make_id(campaign_id: str, round: int, parent_id: str, edit: str, seed: int) -> str:
        return "contrast:" + stable_id(campaign_id, round, parent_id, edit, seed)


class Prediction(Record):
    table = "predictions"
    key = ("campaign_id", "round", "item_id", "head", "model_version")
    campaign_id: str
    round: int = Field(ge=0)
    item_id: str
    head: Literal["weak", "true"]
    prob: float = Field(ge=0, le=1)  # probability of label 1
    model_version: str
    created_at: datetime = Field(default_factory=now)


class Check(Record):
    table = "checks"
    key = ("id",)
    campaign_id: str
    round: int = Field(ge=0)
    check_name: str
    item_ids: list[str] = Field(min_length=1)
    violation: float = Field(ge=0)
    details: dict[str, Any] = Field(default_factory=dict)
    model_version: str
    created_at: datetime = Field(default_factory=now)

    @computed_field
    @property
    def id(self) -> str:
        return stable_id(self.campaign_id, self.round, self.check_name,
                         *self.item_ids, self.model_version)


class TrainingRound(Record):
    table = "training_rounds"
    key = ("campaign_id", "round", "model_version")
    campaign_id: str
    round: int = Field(ge=0)
    loss: str
    n_weak: int = Field(ge=0)
    n_gold: int = Field(ge=0)
    model_version: str
    details: dict[str, Any] = Field(default_factory=dict)
    started_at: datetime
    finished_at: datetime = Field(default_factory=now)


class Metric(Record):
    table = "metrics"
    key = ("campaign_id", "round", "name", "scope")
    campaign_id: str
    round: int = Field(ge=0)
    name: str
    scope: str = "all"  # "all", a split, or "category=<name>"
    value: float
    created_at: datetime = Field(default_factory=now)


class Event(Record):
    table = "events"
    key = ("id",)
    id: str
    campaign_id: str | None = None
    kind: str
    payload: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=now)


RECORDS: tuple[type[Record], ...] = (
    Dataset, Item, Gold, Campaign, Query, Label, Prediction, Check,
    TrainingRound, Metric, Event, Contrast,
)
