"""The held-out category grid on real data: a campaign over Amazon reviews with one
domain nobody supervised, audited from its DuckDB log."""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
W2S = str(Path(sys.executable).parent / "w2s")
ENGINE = "vllm" if importlib.util.find_spec("vllm") else "hf"

CONFIG = f"""
dataset = "amazon"
held_out = ["kitchen"]
max_text_chars = 1200
batch_size = 6
strategy = {{ name = "entropy" }}
stopping = [{{ name = "budget" }}]

[[oracles]]
name = "weak-model"
role = "weak"
params = {{ model = "tfidf" }}

[[oracles]]
name = "ground-truth"
role = "gold"
budget = 12

[student]
model = "smollm2-135m-instruct"  # the fast student
engine = "{ENGINE}"
"""


def w2s(ws: Path, *args, timeout=1800) -> str:
    r = subprocess.run([W2S, "-w", str(ws), *args], capture_output=True, text=True,
                       timeout=timeout, env={"COLUMNS": "220", **__import__("os").environ})
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


def test_held_out_domain_grid_and_comparison(tmp_path, shared_data):
    ws = tmp_path / "ws"
    w2s(ws, "data", "import", "amazon", "--data-dir", str(shared_data), "--per-category", "40")
    (tmp_path / "c.toml").write_text(CONFIG)
    w2s(ws, "campaign", "run", str(tmp_path / "c.toml"), "--name", "amz")
    (tmp_path / "naive.toml").write_text(CONFIG.replace('"entropy"', '"random"'))
    w2s(ws, "campaign", "run", str(tmp_path / "naive.toml"), "--name", "amz-random")

    a = json.loads(w2s(ws, "audit", "amz", "--json"))
    assert a["held_out"] == ["kitchen"] and a["n_test_held_out"] > 0
    grid = {c["category"]: c for c in a["categories"]}
    assert grid["kitchen"]["held_out"] and not grid["books"]["held_out"]
    assert {"supervised (all)", "held out (all)"} <= set(grid)
    for row in grid.values():  # every method has an accuracy on every category
        assert set(row["methods"]) >= {"weak", "zero-shot", "w2s-xent", "ceiling", "campaign r2"}
        assert all(m["acc"] is not None for m in row["methods"].values())
    assert grid["held out (all)"]["methods"]["ceiling"]["acc"] is not None
    assert a["rounds"][-1]["acc_held_out"] == pytest.approx(
        grid["held out (all)"]["methods"]["campaign r2"]["acc"])
    # no gold was ever bought on the held-out domain, nor weak labels
    sql = json.loads(w2s(ws, "audit", "sql",
                         "SELECT count(*) AS n FROM queries q JOIN items i ON i.id = q.item_id "
                         "WHERE q.campaign_id LIKE 'amz%' AND i.category = 'kitchen' "
                         "AND i.split = 'train'", "--json"))
    assert sql == [{"n": 0}]

    shown = w2s(ws, "audit", "amz")
    assert "held-out category grid" in shown and "kitchen" in shown and "held out" in shown
    both = w2s(ws, "audit", "compare", "amz", "amz-random")
    assert "amz-random" in both and "side by side" in both
    assert (ws / "audit" / "compare-amz-amz-random" / "report.html").exists()
