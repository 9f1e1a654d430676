"""The installed `w2s` command, run as a user runs it, on a real workspace."""

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from w2s.store.schema import LATEST

pytestmark = pytest.mark.integration
W2S = str(Path(sys.executable).parent / "w2s")


def run(*args, cwd=None, check=True):
    env = {**os.environ, "COLUMNS": "200"}
    r = subprocess.run([W2S, *args], capture_output=True, text=True, cwd=cwd, env=env,
                       timeout=300)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def test_quick_start_flow(tmp_path):
    ws = str(tmp_path / "ws")
    assert "data" in run("--help").stdout
    out = run("-w", ws, "data", "import", "builtin").stdout
    assert "imported builtin: 1,500 items" in out
    listing = run("-w", ws, "data", "list").stdout
    assert "builtin" in listing and "1,500" in listing
    shown = run("-w", ws, "data", "show", "builtin", "--category", "capitals", "--limit", "2").stdout
    assert "capitals" in shown and "Is this statement true?" in shown
    info = run("-w", ws, "info").stdout
    assert f"schema v{LATEST}" in info
    again = run("-w", ws, "data", "import", "builtin")
    assert "already in the workspace, unchanged" in again.stdout
    other = run("-w", ws, "data", "import", "builtin", "--per-category", "10", check=False)
    assert other.returncode == 2 and "--replace" in other.stderr
    assert "Traceback" not in other.stderr
    con = duckdb.connect(str(tmp_path / "ws" / "w2s.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM items").fetchone()[0] == 1500


def test_workspace_from_the_environment(tmp_path):
    env_ws = tmp_path / "env-ws"
    r = subprocess.run([W2S, "data", "import", "builtin", "--per-category", "20"],
                       capture_output=True, text=True, cwd=tmp_path,
                       env={**os.environ, "W2S_WORKSPACE": str(env_ws)})
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(env_ws / "w2s.duckdb"), read_only=True)
    n = con.execute("SELECT count(*) FROM items").fetchone()[0]
    assert 90 <= n <= 200  # at most 20 per split and category


def test_shared_dataset_import_with_sample_and_rename(tmp_path, shared_data):
    ws = str(tmp_path / "ws")
    out = run("-w", ws, "data", "import", "amazon", "--data-dir", str(shared_data),
              "--per-category", "50", "--name", "amazon_small").stdout
    assert "imported amazon_small: 400 items" in out
    shown = run("-w", ws, "data", "show", "amazon_small", "--limit", "1").stdout
    assert "kitchen" in shown and "amazon_small:" in shown
