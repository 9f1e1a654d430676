"""Oracles by name. A spec names a registered oracle or any `module:Class`, with
its cost per label, an optional budget (labels) and keyword parameters."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from w2s.store import Dataset, Item, Store
from w2s.store import Purpose

from .base import Oracle, ask
from .ground_truth import GroundTruthOracle, NoisySupervisor


class OracleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str  # a registered oracle, or module:Class
    cost: float = Field(default=0.0, ge=0)  # per label
    budget: int | None = Field(default=None, ge=0)  # labels; None = unlimited
    params: dict[str, Any] = {}


@dataclass
class OracleContext:
    """What an oracle may need to set itself up."""
    store: Store
    dataset: Dataset
    campaign_id: str
    workspace: Path
    seed: int = 0
    # items whose gold a weak model may buy (from the ground-truth oracle) to fit on
    weak_training: Sequence[Item] = field(default_factory=list)
    # the student's latest (P weak head, P truth head) for an item, for people who ask
    predictions: Callable[[str], tuple[float, float] | None] | None = None


def _ground_truth(ctx: OracleContext, cost: float, **params) -> Oracle:
    return GroundTruthOracle(ctx.store, cost, **params)


def _noisy(ctx: OracleContext, cost: float, **params) -> Oracle:
    return NoisySupervisor(ctx.store, cost, **params)


def _weak_model(ctx: OracleContext, cost: float, model: str = "tfidf") -> Oracle:
    """A weak supervisor trained on gold labels of ctx.weak_training, bought like any label."""
    from .weak import WeakModelOracle, make_weak_model, weak_text  # scikit-learn, torch

    if not ctx.weak_training:
        raise ValueError("the weak-model oracle needs items to train on (weak_training)")
    gold = ask(ctx.store, GroundTruthOracle(ctx.store), ctx.campaign_id, ctx.seed,
               ctx.weak_training, Purpose.WEAK_TRAINING)
    fit_on = [i for i in ctx.weak_training if i.id in gold]
    weak = make_weak_model(model).fit([weak_text(i, ctx.dataset) for i in fit_on],
                                      [gold[i.id].value for i in fit_on], ctx.seed)
    return WeakModelOracle(weak, ctx.dataset, cost)


def _human_terminal(ctx: OracleContext, cost: float) -> Oracle:
    from .human import TerminalOracle
    return TerminalOracle(ctx.dataset, cost, ctx.predictions)


def _human_web(ctx: OracleContext, cost: float, **params) -> Oracle:
    from .web import WebOracle
    return WebOracle(ctx.store, ctx.dataset, ctx.campaign_id, cost, predictions=ctx.predictions,
                     **params)


def _endpoint(ctx: OracleContext, cost: float, **params) -> Oracle:
    from .endpoint import EndpointOracle
    return EndpointOracle(ctx.dataset, cost=cost, **params)


@dataclass(frozen=True)
class Kind:
    """What a run must know of an oracle before building it: whether it fits itself on
    gold of half the training items (which then split in two), and whether it is a
    person (nobody labels a thousand test items for a reference run). A user's
    module:Class declares the same as class attributes."""
    build: Callable[..., Oracle] | None = None
    fits_on_gold: bool = False
    person: bool = False


ORACLES: dict[str, Kind] = {
    "ground-truth": Kind(_ground_truth),
    "noisy": Kind(_noisy),
    "weak-model": Kind(_weak_model, fits_on_gold=True),
    "human-terminal": Kind(_human_terminal, person=True),
    "human-web": Kind(_human_web, person=True),
    "endpoint": Kind(_endpoint),
}


def kind(name: str) -> Kind:
    """A registered oracle's kind, or what a module:Class declares (nothing if absent)."""
    if name in ORACLES:
        return ORACLES[name]
    module, _, attr = name.partition(":")
    try:
        cls = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError):
        return Kind()
    return Kind(fits_on_gold=bool(getattr(cls, "fits_on_gold", False)),
                person=bool(getattr(cls, "person", False)))


def make_oracle(spec: OracleSpec, ctx: OracleContext) -> Oracle:
    """A registered oracle, or a user's class named `module:Class`: built with
    `Class.from_config(ctx, cost=..., **params)` if it has one, else `Class(**params)`."""
    if spec.name in ORACLES:
        oracle = ORACLES[spec.name].build(ctx, spec.cost, **spec.params)
    elif ":" in spec.name:
        module, _, attr = spec.name.partition(":")
        try:
            cls = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as e:
            raise ValueError(f"oracle {spec.name!r}: cannot import it ({e})") from e
        if hasattr(cls, "from_config"):
            oracle = cls.from_config(ctx, cost=spec.cost, **spec.params)
        else:
            oracle = cls(**spec.params)
            oracle.cost = spec.cost
        if not callable(getattr(oracle, "answer", None)):
            raise ValueError(f"oracle {spec.name!r} has no answer(items) method")
        oracle.name = getattr(oracle, "name", None) or spec.name
    else:
        raise ValueError(f"unknown oracle {spec.name!r}; known: {', '.join(ORACLES)}, "
                         "or module:Class")
    if hasattr(oracle, "budget"):  # oracles that show people how much is left
        oracle.budget = spec.budget
    return oracle
