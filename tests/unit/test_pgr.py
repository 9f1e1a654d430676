"""PGR is a ratio over the gap between supervisor and ceiling: where there is no gap
it is undefined, and says so."""

import numpy as np
import pytest

from w2s.agent.evaluate import NO_GAP, pgr, pgr_ci, pgr_text


def test_no_gap_no_pgr():
    # the experiment that printed +1.90: ceiling 0.595 below the supervisor's 0.644
    assert np.isnan(pgr(0.644, 0.551, 0.595))
    assert np.isnan(pgr(0.6, 0.7, 0.6))
    assert pgr(0.6, 0.7, 0.8) == pytest.approx(0.5)  # half the gap


def test_interval_undefined_when_the_gap_is_not_sure():
    rng = np.random.default_rng(0)
    n = 200
    weak = (rng.random(n) < 0.70).astype(float)
    ceiling = (rng.random(n) < 0.71).astype(float)  # a gap of about a point, by chance
    strong = (rng.random(n) < 0.72).astype(float)
    point, lo, hi = pgr_ci(weak, strong, ceiling, n_boot=500)
    assert np.isnan(lo) and np.isnan(hi)
    ceiling = np.maximum(weak, (rng.random(n) < 0.6).astype(float))  # surely above
    point, lo, hi = pgr_ci(weak, strong, ceiling, n_boot=500)
    assert np.isfinite(point) and lo <= point <= hi


def test_text():
    assert pgr_text(float("nan"), float("nan"), float("nan")) == NO_GAP
    assert pgr_text(None) == NO_GAP
    assert pgr_text(0.4234, 0.1, 0.7) == "+0.42 [+0.10, +0.70]"
    assert pgr_text(-0.001, -0.2, 0.3) == "-0.00 [-0.20, +0.30]" or \
        pgr_text(-0.001, -0.2, 0.3) == "+0.00 [-0.20, +0.30]"
    assert "interval undefined" in pgr_text(0.5, float("nan"), float("nan"))
