"""Model versions: how the log names a student's models (predictions, checks and
training rounds carry one). Built here only; everything else treats them as names."""

from __future__ import annotations

GOLD_ONLY = ":gold-only"  # suffix: the same round's student trained on its gold alone
ZERO_SHOT = "zero-shot"


def of_round(campaign_id: str, round: int) -> str:
    """A campaign's model after training in a round."""
    return f"{campaign_id}:r{round}"


def gold_only(version: str) -> str:
    """The gold-only baseline fit beside a round's model."""
    return version + GOLD_ONLY


def of_experiment(mode: str, method: str, seed: int) -> str:
    """An experiment's model of one method (xent, logconf, ceiling, ...) and seed."""
    return f"{mode}:{method}:seed{seed}"


def zero_shot(seed: int) -> str:
    """An experiment's prompted student, before training, for one seed."""
    return f"{ZERO_SHOT}:seed{seed}"


def file_name(version: str) -> str:
    """The name a version's saved weights (or served adapter) go by: no colons."""
    return version.replace(":", "-")
