"""Every training hyper-parameter, in one flat config."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .losses import LOSSES, LossConfig


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["probe", "lora"] = "probe"
    loss: str = "logconf"  # truth-head loss on weak labels: xent | logconf | entropy | window
    losses: LossConfig = LossConfig()
    # label-free consistency penalties on the truth head (probe mode): option-group, negation
    consistency: list[str] = []
    consistency_weight: float = Field(default=1.0, ge=0)
    gold_weight: float = Field(default=1.0, ge=0)  # a bought gold label weighs this many weak ones
    seed: int = 0
    batch_size: int = Field(default=32, ge=2)
    # probe heads: linear heads on standardized middle-layer features, L2-penalized
    probe_epochs: int = Field(default=50, ge=1)
    probe_lr: float = Field(default=1e-2, gt=0)
    probe_l2: float = Field(default=1e-3, ge=0)
    # LoRA (transformers + peft)
    lora_rank: int = Field(default=8, ge=1)
    lora_alpha: int = Field(default=16, ge=1)
    lora_targets: list[str] = ["q_proj", "v_proj"]
    lora_epochs: int = Field(default=1, ge=1)
    lora_lr: float = Field(default=5e-4, gt=0)
    lora_batch_size: int = Field(default=8, ge=1)

    @field_validator("consistency")
    @classmethod
    def _known_terms(cls, names: list[str]) -> list[str]:
        from .consistency import CONSISTENCY
        unknown = [n for n in names if n not in CONSISTENCY]
        if unknown:
            raise ValueError(f"unknown consistency term {unknown[0]!r}; known: "
                             f"{', '.join(CONSISTENCY)}")
        return names

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, name: str) -> str:
        if name not in LOSSES:
            raise ValueError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
        return name
