"""Every check family in a real campaign: student features through vLLM where it is
installed, a real DuckDB log, the check-violation strategy steering the queries."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from w2s.store import Check, Query, Store

pytestmark = [pytest.mark.integration, pytest.mark.slow]
W2S = str(Path(sys.executable).parent / "w2s")
ENGINE = "vllm" if importlib.util.find_spec("vllm") else "hf"


def test_checks_run_in_a_campaign_are_logged_and_steer_queries(tmp_path):
    ws = tmp_path / "ws"
    env = {**os.environ, "COLUMNS": "200"}
    run = lambda *a: subprocess.run([W2S, "-w", str(ws), *a], capture_output=True, text=True,
                                    env=env, timeout=1800)
    assert run("data", "import", "builtin", "--per-category", "12").returncode == 0
    config = tmp_path / "checks.yaml"
    config.write_text(f"""
dataset: builtin
batch_size: 3
strategy: {{name: check-violation}}
checks:
  - {{name: cross-examination}}
  - {{name: negation}}
  - {{name: option-group}}
  - {{name: plausibility, params: {{sample: 2, max_new_tokens: 16}}}}
train: {{consistency: [negation]}}
oracles:
  - {{name: weak-model, role: weak, params: {{model: tfidf}}}}
  - {{name: ground-truth, role: gold, budget: 6}}
student: {{engine: {ENGINE}, model: smollm2-135m-instruct}}
""")
    r = run("campaign", "run", str(config), "--name", "k")
    assert r.returncode == 0, r.stdout + r.stderr
    with Store(ws / "w2s.duckdb", read_only=True) as s:
        checks = s.select(Check, "campaign_id = 'k'")
        by_name = {c.check_name for c in checks}
        assert {"cross-examination", "negation", "plausibility"} <= by_name
        assert all(c.violation >= 0 and c.model_version.startswith("k:r") for c in checks)
        reasons = [c.details["reason"] for c in checks if c.check_name == "plausibility"]
        assert reasons and all(isinstance(x, str) for x in reasons)
        second = [q for q in s.select(Query, "campaign_id = 'k' AND round = 2")
                  if q.oracle == "ground-truth"]
        # round 2's picks were scored by the checks run on the model that predicted in
        # round 2, just before selection: the worst violation per item
        worst = {}
        for c in checks:
            if c.round == 2:
                for item in c.item_ids:
                    worst[item] = max(worst.get(item, 0.0), c.violation)
        assert all(q.score == pytest.approx(worst.get(q.item_id, 0.0)) for q in second)
        assert max(q.score for q in second) > 0
    status = run("campaign", "status", "k").stdout
    assert "consistency checks" in status and "plausibility" in status
