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
