"""Every training hyper-parameter, in one flat config."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .losses import LOSSES, LossConfig
from .mistakes import MistakeConfig
from .zero_gold import ZeroGoldConfig


# settings of an older w2s's probe (Adam on minibatches) that logs may still hold
RETIRED = ("batch_size", "probe_epochs", "probe_lr", "probe_l2")


class TrainConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    mode: Literal["probe", "lora"] = "probe"
    # how the truth head is made (see probe.py): the weak head corrected by a model of
    # the supervisor's mistakes fit on gold, the loss on weak labels plus gold (mixed;
    # LoRA mode's default), or the gold alone
    method: Literal["mistake-model", "mixed", "gold-only"] = "mistake-model"
    loss: str = "logconf"  # truth-head loss on weak labels: xent | logconf | entropy | window
    losses: LossConfig = LossConfig()
    mistakes: MistakeConfig = MistakeConfig()
    # what the mistake model corrects before any gold (zero_gold.py): the label model
    # over the supervisor, the zero-shot answers and a probe on the features
    zero_gold: ZeroGoldConfig = ZeroGoldConfig()
    # label-free consistency penalties on the truth head (probe mode): option-group, negation
    consistency: list[str] = []
    consistency_weight: float = Field(default=1.0, ge=0)
    gold_weight: float = Field(default=1.0, ge=0)  # a bought gold label weighs this many weak ones
    seed: int = 0
    # probe heads: linear heads on standardized middle-layer features, fit full-batch;
    # the L2 penalty's C (scikit-learn's) is chosen by cross-validation unless set
    probe_c: float | None = Field(default=None, gt=0)
    probe_stages: int = Field(default=10, ge=1)  # anchor refreshes of a moving loss (logconf)
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

    @model_validator(mode="after")
    def _mode_can_honour(self) -> "TrainConfig":
        """The default method gives way to what the rest asks for (LoRA, consistency
        terms: both train the truth head with the objective); a method set explicitly
        that cannot honour them is refused."""
        if self.consistency and self.method != "mixed":
            if "method" in self.model_fields_set:
                raise ValueError(f"consistency: the terms shape the truth head's training, "
                                 f"which method {self.method!r} does not do; set method = 'mixed'")
            self.method = "mixed"
        if self.mode == "lora":
            if self.consistency:
                raise ValueError("consistency: the terms train probe heads; LoRA mode "
                                 "cannot use them (set mode = 'probe')")
            if self.method == "mistake-model":
                if "method" in self.model_fields_set:
                    raise ValueError("method: the mistake model reads probe features; LoRA "
                                     "mode offers mixed and gold-only")
                self.method = "mixed"
            if self.probe_c is not None:
                raise ValueError("probe_c: LoRA mode trains no probe")
        return self

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, name: str) -> str:
        if name not in LOSSES:
            raise ValueError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
        return name
