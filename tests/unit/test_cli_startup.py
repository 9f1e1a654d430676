"""The command line itself: what it loads to start, and options as a user types them."""

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from w2s.cli import experiment as experiment_cli
from w2s.cli.common import console
from w2s.cli.main import app

runner = CliRunner()
HEAVY = ("torch", "duckdb", "langgraph", "sklearn", "transformers", "vllm", "numpy", "w2s.agent.config")


def test_help_loads_no_heavy_library():
    code = ("import sys; from typer.testing import CliRunner; from w2s.cli.main import app; "
            "r = CliRunner().invoke(app, ['--help']); assert r.exit_code == 0, r.output; "
            f"print([m for m in {HEAVY!r} if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_log_lines_do_not_end_with_a_source_file():
    with console.capture() as cap:
        console.log("features: 10 items/s")
    assert "features: 10 items/s" in cap.get() and ".py:" not in cap.get()


def test_experiment_help_defaults_are_the_configs():
    from w2s.agent.experiment import ExperimentConfig

    cfg = ExperimentConfig(dataset="d")
    assert experiment_cli.HELP_DEFAULTS == {
        "weak": cfg.weak, "seeds": len(cfg.seeds), "n_train": cfg.n_train, "n_test": cfg.n_test,
        "losses": ",".join(cfg.losses), "mode": cfg.train.mode, "engine": cfg.student.engine}


@pytest.fixture
def captured(monkeypatch):
    """The config `w2s experiment` would run, instead of running it."""
    seen = {}

    class Ran(Exception):
        pass

    def run_experiment(store, cfg, *args, **kwargs):
        seen["cfg"] = cfg
        raise Ran

    monkeypatch.setattr("w2s.agent.experiment.run_experiment", run_experiment)
    return seen, Ran


def test_experiment_options_override_the_file_only_when_typed(tmp_path, captured):
    seen, ran = captured
    f = tmp_path / "e.toml"
    f.write_text('seeds = [4, 5]\nn_train = 300\nn_test = 100\nweak = "oracle:noisy"\n'
                 'losses = ["xent"]\n[train]\nmode = "probe"\n[student]\nengine = "hf"\n')
    r = runner.invoke(app, ["-w", str(tmp_path / "ws"), "experiment", "toy", "--config", str(f)])
    assert isinstance(r.exception, ran), r.output
    cfg = seen["cfg"]
    assert (cfg.seeds, cfg.n_train, cfg.n_test, cfg.weak, cfg.losses, cfg.student.engine) == \
        ([4, 5], 300, 100, "oracle:noisy", ["xent"], "hf")
    r = runner.invoke(app, ["-w", str(tmp_path / "ws"), "experiment", "toy", "--config", str(f),
                            "--seeds", "2", "--n-test", "50", "--engine", "vllm"])
    cfg = seen["cfg"]
    assert (cfg.seeds, cfg.n_train, cfg.n_test, cfg.student.engine) == ([0, 1], 300, 50, "vllm")
