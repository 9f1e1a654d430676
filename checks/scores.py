"""Violation scores, pure functions of probabilities (0 = consistent).

Each coherence score comes two ways: the absolute gap, and a frequentist score as in
Paleka et al. (consistency checks for forecasters): |gap| / sqrt(variance terms + beta),
which discounts gaps between unsure probabilities and stresses gaps between sure ones.
"""

from __future__ import annotations

import numpy as np


def spread(p: np.ndarray) -> np.ndarray:
    """Cross-examination: [items, variants] of P(label 1) -> max - min per item."""
    p = np.asarray(p, float)
    return p.max(axis=1) - p.min(axis=1)


def negation(p_q: np.ndarray, p_not_q: np.ndarray, beta: float = 0.1
             ) -> tuple[np.ndarray, np.ndarray]:
    """P(yes | q) + P(yes | not q) should be 1. Returns (|gap|, frequentist score)."""
    p_q, p_n = np.asarray(p_q, float), np.asarray(p_not_q, float)
    gap = np.abs(p_q + p_n - 1)
    return gap, gap / np.sqrt(p_q * (1 - p_q) + p_n * (1 - p_n) + beta)


def option_group(p: np.ndarray, beta: float = 0.1) -> tuple[float, float, float]:
    """Options of one question, exactly one correct: P(correct) over the group should
    sum to 1. Returns (|sum - 1|, frequentist score, argmax margin after normalizing)."""
    p = np.asarray(p, float)
    gap = abs(p.sum() - 1)
    q = np.sort(p / p.sum())[::-1] if p.sum() > 0 else np.zeros_like(p)
    margin = float(q[0] - q[1]) if len(q) > 1 else 1.0
    return gap, gap / np.sqrt(float((p * (1 - p)).sum()) + beta), margin
