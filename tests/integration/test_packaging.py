"""`pip install .` (not editable) lays out one import package `w2s` with its
subpackages and a `w2s` command, and no bare top-level `store`/`cli`/... modules."""

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def test_non_editable_install_into_a_fresh_venv(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    # dependencies come from the test environment; the package itself is built and installed
    site = Path(subprocess.check_output([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    build = subprocess.run([str(py), "-m", "pip", "install", "--no-deps", str(ROOT)],
                           capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    help_ = subprocess.run([str(venv / "bin" / "w2s"), "--help"], cwd=elsewhere, env=env,
                           capture_output=True, text=True)
    assert help_.returncode == 0 and "data" in help_.stdout, help_.stderr
    imports = subprocess.run([str(py), "-c", "import w2s.store, w2s.agent, w2s.checks, "
                              "w2s.oracles, w2s.cli, w2s.store.datasets; print(w2s.__file__)"],
                             cwd=elsewhere, env=env, capture_output=True, text=True)
    assert imports.returncode == 0, imports.stderr
    assert imports.stdout.strip().startswith(str(site)), imports.stdout
    top_level = {p.name for p in site.iterdir()}
    assert "w2s" in top_level
    assert not top_level & {"store", "cli", "agent", "checks", "oracles", "tests", "bench"}
    installed = {p.relative_to(site / "w2s").as_posix() for p in (site / "w2s").rglob("*.py")}
    assert {"__init__.py", "store/db.py", "store/datasets/builtin.py", "cli/main.py"} <= installed
    assert not any(p.startswith("tests/") for p in installed)

