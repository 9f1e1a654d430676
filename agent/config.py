"""A campaign's whole configuration: one pydantic model, read from TOML or YAML."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (AliasChoices, BaseModel, ConfigDict, Field, ValidationError,
                      model_validator)

from w2s.oracles import OracleSpec

from .contrast.config import ContrastConfig
from .items import Selection
from .stopping import STOPPING
from .strategies import STRATEGIES
from .student import StudentConfig
from .training import TrainConfig


class Named(BaseModel):
    """A registry entry chosen by name, with its parameters."""
    model_config = ConfigDict(extra="forbid")
    name: str
    params: dict[str, Any] = {}


class CampaignOracle(OracleSpec):
    # weak: labels the pool in bulk; gold: labels what the strategy picks
    role: Literal["weak", "gold"] = "gold"


class CampaignConfig(Selection):
    """The items (Selection: dataset, categories, held_out, n_train, ...) and how the
    campaign runs on them."""
    model_config = ConfigDict(extra="forbid")
    seed: int = 0
    oracles: list[CampaignOracle] = [
        CampaignOracle(name="weak-model", role="weak", cost=0.0, params={"model": "tfidf"}),
        CampaignOracle(name="ground-truth", role="gold", cost=1.0, budget=50)]
    # the best measured with the mistake model (bench/gold_efficiency.py, built-in task)
    strategy: Named = Named(name="entropy")
    diversity: Literal["none", "category", "kcenter"] = "none"
    # gold labels bought per round (batch_size: its name before w2s 0.2, still read)
    gold_per_round: int = Field(default=10, ge=1,
                                validation_alias=AliasChoices("gold_per_round", "batch_size"))
    stopping: list[Named] = [Named(name="budget"), Named(name="plateau"),
                             Named(name="max-rounds", params={"rounds": 10})]
    checks: list[Named] = []
    # the student's experiments on its weak supervisor (contrast items it writes)
    contrast: ContrastConfig = ContrastConfig()
    # first run `w2s experiment` on these items and seed (weak floor, zero-shot, naive
    # W2S, gold ceiling) unless logged: the audit's PGR is measured between them
    reference: bool = True
    train: TrainConfig = TrainConfig()
    student: StudentConfig = StudentConfig()

    @model_validator(mode="after")
    def _consistent(self) -> "CampaignConfig":
        if self.strategy.name not in STRATEGIES:
            raise ValueError(f"strategy: unknown {self.strategy.name!r}; known: "
                             f"{', '.join(STRATEGIES)}")
        for s in self.stopping:
            if s.name not in STOPPING:
                raise ValueError(f"stopping: unknown {s.name!r}; known: {', '.join(STOPPING)}")
        from w2s.checks import CHECKS
        for c in self.checks:
            if c.name not in CHECKS:
                raise ValueError(f"checks: unknown {c.name!r}; known: {', '.join(CHECKS) or 'none'}")
        if not any(o.role == "weak" for o in self.oracles):
            raise ValueError("oracles: need at least one with role = 'weak'")
        if not any(o.role == "gold" for o in self.oracles):
            raise ValueError("oracles: need at least one with role = 'gold'")
        if self.categories and set(self.held_out) & set(self.categories):
            raise ValueError("held_out: a held-out category cannot also be a training category")
        return self

    @property
    def gold_budget(self) -> int | None:
        budgets = [o.budget for o in self.oracles if o.role == "gold"]
        return None if None in budgets else sum(budgets)


class ConfigError(ValueError):
    pass


def logged_config(raw: dict) -> CampaignConfig:
    """A campaign's config as the log holds it, read by this w2s: settings that are
    gone (an older probe's) are dropped, so old campaigns can still be audited."""
    from .training.config import RETIRED
    train = {k: v for k, v in raw.get("train", {}).items() if k not in RETIRED}
    return CampaignConfig(**{**raw, "train": train})


def was_retired(raw: dict) -> bool:
    from .training.config import RETIRED
    return any(k in raw.get("train", {}) for k in RETIRED)


def read_settings(path: str | Path) -> dict[str, Any]:
    """The settings in a TOML or YAML file (by its suffix), for any config model; errors
    name the file and where."""
    path = Path(path)
    yaml_file = path.suffix in (".yaml", ".yml")
    try:
        text = path.read_text()
    except OSError as e:
        raise ConfigError(f"{path}: {e.strerror}") from e
    try:
        if yaml_file:
            import yaml
            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except Exception as e:  # TOML and YAML parse errors both say where
        raise ConfigError(f"{path}: not valid {'YAML' if yaml_file else 'TOML'}: {e}") from e
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table of settings at the top level")
    return data


def load_config(path: str | Path, **overrides: Any) -> CampaignConfig:
    """Read and validate a campaign config file; errors name the file, the field and why."""
    data = read_settings(path)
    try:
        return CampaignConfig(**{**data, **overrides})
    except ValidationError as e:
        err = e.errors()[0]
        field = ".".join(map(str, err["loc"])) or "(top level)"
        raise ConfigError(f"{path}: {field}: {err['msg']}") from e
