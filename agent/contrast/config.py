"""How a campaign experiments on its supervisor (CampaignConfig.contrast)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .edits import DEFAULT_EDITS, EDITS


class ContrastConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # before the first gold purchase, the student edits `parents` pool items in each
    # of `edits` ways and the weak supervisor labels the valid edits
    enabled: bool = False
    parents: int = Field(default=40, ge=1)  # pool items edited: generated items = parents x edits
    edits: list[str] = list(DEFAULT_EDITS)
    max_tokens: int = Field(default=64, ge=8)  # per written edit
    # weak-supervisor queries on the valid edits of each run (None: every one), at its cost
    weak_queries: int | None = Field(default=None, ge=0)
    # run the experiments again (on new parents) once this share of the pool has changed
    # its predicted truth since the predictions that followed the last run: the mistake
    # model has moved, so its hypotheses are worth testing anew; None: before the first
    # gold purchase only
    rerun_after: float | None = Field(default=0.1, gt=0, le=1)
    runs: int = Field(default=3, ge=1)  # experiment runs per campaign, the first included

    @field_validator("edits")
    @classmethod
    def _known(cls, edits: list[str]) -> list[str]:
        unknown = [e for e in edits if e not in EDITS]
        if unknown or not edits:
            what = f"unknown edit {unknown[0]!r}" if unknown else "no edits"
            raise ValueError(f"{what}; known: {', '.join(EDITS)}")
        return edits
