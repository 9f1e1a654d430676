"""Training the student's two heads: losses, probe heads, LoRA."""

from .config import TrainConfig
from .losses import LOSSES, LossConfig

__all__ = ["LOSSES", "LossConfig", "TrainConfig"]
