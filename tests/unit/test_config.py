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
