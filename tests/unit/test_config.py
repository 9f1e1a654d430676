"""The shipped example config is valid, and a bad one names the file and the field."""

from pathlib import Path

import pytest

from w2s.agent.config import ConfigError, load_config

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "campaign.toml"


def test_the_example_config_loads():
    config = load_config(EXAMPLE)
    assert config.reference and config.gold_budget == 50 and config.held_out == ["colours"]


def test_a_bad_field_names_the_file_and_field(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('dataset = "builtin"\nreference = "sometimes"\n')
    with pytest.raises(ConfigError, match=r"bad\.toml: reference: "):
        load_config(bad)


def test_a_training_option_the_mode_cannot_honour_is_refused():
    from w2s.agent.training import TrainConfig
    assert TrainConfig().method == "mistake-model"
    assert TrainConfig(mode="lora").method == "mixed"  # the default gives way
    assert TrainConfig(consistency=["negation"]).method == "mixed"
    for bad, field in ((dict(mode="lora", method="mistake-model"), "method"),
                       (dict(mode="lora", consistency=["negation"]), "consistency"),
                       (dict(mode="lora", probe_c=0.1), "probe_c"),
                       (dict(method="gold-only", consistency=["negation"]), "consistency")):
        with pytest.raises(ValueError, match=field):
            TrainConfig(**bad)


def test_batch_names_say_which_batch_and_old_names_still_read(tmp_path):
    from w2s.agent.config import CampaignConfig

    old = tmp_path / "old.toml"
    old.write_text('dataset = "d"\nbatch_size = 4\n[student]\nbatch_size = 8\n')
    cfg = load_config(old)
    assert (cfg.gold_per_round, cfg.student.request_batch) == (4, 8)
    dumped = cfg.model_dump(mode="json")  # what the log keeps, and reads back the same
    assert "batch_size" not in dumped and CampaignConfig(**dumped) == cfg


def test_one_loader_reads_toml_and_yaml(tmp_path):
    from w2s.agent.config import read_settings

    (tmp_path / "a.toml").write_text('seeds = [1, 2]\n[student]\nengine = "hf"\n')
    (tmp_path / "a.yaml").write_text("seeds: [1, 2]\nstudent:\n  engine: hf\n")
    assert read_settings(tmp_path / "a.toml") == read_settings(tmp_path / "a.yaml")
    (tmp_path / "b.yaml").write_text("- a list\n")
    with pytest.raises(ConfigError, match="b.yaml: expected a table"):
        read_settings(tmp_path / "b.yaml")
