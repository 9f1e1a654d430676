"""Check scores on hand-built probabilities: consistent sets score 0, a known
contradiction scores what the formula gives by hand."""

import numpy as np
import pytest

from w2s.checks.scores import negation, option_group, spread


def test_consistent_sets_score_zero():
    assert spread(np.array([[0.7, 0.7, 0.7], [0.1, 0.1, 0.1]])) == pytest.approx([0, 0])
    gap, freq = negation(np.array([0.8, 0.3]), np.array([0.2, 0.7]))
    assert gap == pytest.approx([0, 0]) and freq == pytest.approx([0, 0])
    g, f, margin = option_group(np.array([0.9, 0.05, 0.05]))
    assert g == pytest.approx(0) and f == pytest.approx(0) and margin == pytest.approx(0.85)


def test_known_contradictions_score_by_hand():
    assert spread(np.array([[0.9, 0.2, 0.5]])) == pytest.approx([0.7])
    # "yes" to q and "yes" to not-q, both at 0.9: gap 0.8, variance 0.09 + 0.09
    gap, freq = negation(np.array([0.9]), np.array([0.9]), beta=0.1)
    assert gap == pytest.approx([0.8])
    assert freq == pytest.approx([0.8 / np.sqrt(0.18 + 0.1)])
    # two options both called correct at 0.8: sum 1.6
    g, f, margin = option_group(np.array([0.8, 0.8]), beta=0.1)
    assert g == pytest.approx(0.6) and f == pytest.approx(0.6 / np.sqrt(0.32 + 0.1))
    assert margin == pytest.approx(0.0)  # no clear argmax


def test_the_frequentist_score_discounts_unsure_gaps():
    sure = negation(np.array([0.99]), np.array([0.99]))[1]
    unsure = negation(np.array([0.6]), np.array([0.6]))[1]
    assert sure > unsure
