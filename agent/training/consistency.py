"""Consistency terms for training the truth head, chosen by name: penalties that
need no labels, only the structure of the items (option groups), the student's
answer to the negated question, or the edits it wrote of items (contrast pairs:
an edit meant to keep the truth, or to flip it)."""

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
    for the negated question. Per contrast pair: the row of the item edited, the
    truth head's features of the edit, and whether the edit flips the truth."""
    groups: np.ndarray | None = None
    negated: np.ndarray | None = None
    edit_rows: np.ndarray | None = None
    edits: np.ndarray | None = None
    edit_flips: np.ndarray | None = None


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


def _pairs(p_true, p_edits, data: ConsistencyData, flips: bool):
    chosen = np.flatnonzero(np.asarray(data.edit_flips) == flips)
    if p_edits is None or not len(chosen):
        return p_true.new_zeros(())
    return p_true[data.edit_rows[chosen]], p_edits[chosen]


def invariance(p_true: torch.Tensor, p_edits: torch.Tensor | None,
               data: ConsistencyData) -> torch.Tensor:
    """An edit meant to keep the truth keeps it: (P(item) - P(edit))^2 per pair."""
    found = _pairs(p_true, p_edits, data, False)
    return found if not isinstance(found, tuple) else (found[0] - found[1]).square().mean()


def anti_invariance(p_true: torch.Tensor, p_edits: torch.Tensor | None,
                    data: ConsistencyData) -> torch.Tensor:
    """An edit meant to flip the truth flips it: (P(item) + P(edit) - 1)^2 per pair."""
    found = _pairs(p_true, p_edits, data, True)
    return found if not isinstance(found, tuple) else (found[0] + found[1] - 1).square().mean()


CONSISTENCY: dict[str, Callable[..., "torch.Tensor"]] = {
    "option-group": option_group, "negation": negation, "invariance": invariance,
    "anti-invariance": anti_invariance}
# what a term reads besides the truth head on the items: its second argument
READS = {"negation": "negated", "invariance": "edits", "anti-invariance": "edits"}
