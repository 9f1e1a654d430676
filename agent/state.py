"""The campaign's state: one typed class, small, checkpointed after every node.
Everything large (labels, predictions, models) lives in the DuckDB log and the
workspace; the state only says where the loop is."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CampaignState:
    campaign_id: str
    round: int = 0
    model_version: str | None = None  # None: nothing trained yet
    selected: list[str] = field(default_factory=list)  # item ids picked this round
    scores: list[float] = field(default_factory=list)  # their strategy scores
    gold_spent: int = 0  # gold labels bought so far
    gold_budget: int | None = None  # over all gold oracles; None = unlimited
    pool_exhausted: bool = False
    estimates: list[float] = field(default_factory=list)  # estimated accuracy per round (no gold)
    stop_reason: str | None = None
    # the student's experiments on its supervisor (contrast items): runs so far, the
    # round whose pool predictions later ones are compared with, whether to run again
    contrast_runs: int = 0
    contrast_base: int | None = None
    contrast_due: bool = False
