"""Consistency terms for training the truth head, chosen by name: penalties that
need no labels, only the structure of the items (option groups) or the student's
answer to the negated question."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # a config naming these terms is checked without torch
    import torch


@dataclass
class ConsistencyData:
    """Per training row: the option group (-1 none) and the truth head's features
    for the negated question."""
    groups: np.ndarray | None = None
    negated: np.ndarray | None = None


def option_group(p_true: torch.Tensor, p_negated: torch.Tensor | None,
                 data: ConsistencyData) -> torch.Tensor:
    """Exactly one option of a question is right: (sum of P(right) - 1)^2 per group."""
    import torch

    g = torch.as_tensor(data.groups)
    keep = g >= 0
    if not keep.any():
        return p_true.new_zeros(())
    ids, inverse = g[keep].unique(return_inverse=True)
    sums = p_true.new_zeros(len(ids)).index_add(0, inverse, p_true[keep])
    return (sums - 1).square().mean()


def negation(p_true: torch.Tensor, p_negated: torch.Tensor | None,
             data: ConsistencyData) -> torch.Tensor:
    """P(yes | q) + P(yes | not q) = 1."""
    return (p_true + p_negated - 1).square().mean()


CONSISTENCY: dict[str, Callable[..., "torch.Tensor"]] = {
    "option-group": option_group, "negation": negation}
