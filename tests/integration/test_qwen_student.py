"""The default student, Qwen2.5-Coder-1.5B-Instruct, from its 22 PyPI slices: the
installed slices match their pins, the conversion is the model it claims to be, and a
vLLM pooling server on the truncated copy gives transformers' middle-layer features."""

import importlib.util
import json

import numpy as np
import pytest

from w2s.agent.student import FEATURE_DEPTH, HFEngine, ServeConfig, VLLMServer
from w2s.agent.student.engines import VLLMClient
from w2s.agent.student.models import (MANIFEST, QWEN, SOURCES, feature_layer, gguf_file,
                                      prepare, truncated)

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def qwen_dir():
    return prepare(QWEN)


def test_installed_slices_join_to_the_pinned_file(tmp_path):
    path, joined = gguf_file(QWEN, tmp_path / "joined.gguf")
    assert joined and path.stat().st_size == 1_117_320_768
    with path.open("rb") as f:
        assert f.read(4) == b"GGUF"


def test_the_conversion_is_qwen_with_its_chat_template(qwen_dir):
    config = json.loads((qwen_dir / "config.json").read_text())
    assert config["model_type"] == "qwen2" and config["num_hidden_layers"] == 28
    assert config["tie_word_embeddings"] is False  # the 1.5B has its own output layer
    manifest = json.loads((qwen_dir / MANIFEST).read_text())
    assert manifest["source_sha256"] == SOURCES[QWEN].sha256
    assert (qwen_dir / "chat_template.jinja").exists() or \
        "chat_template" in (qwen_dir / "tokenizer_config.json").read_text()


@pytest.mark.skipif(importlib.util.find_spec("vllm") is None, reason="vLLM is not installed")
def test_vllm_pooling_on_the_truncated_model_gives_transformers_features(qwen_dir, tmp_path):
    layer = feature_layer(qwen_dir, FEATURE_DEPTH)
    folder = truncated(qwen_dir, layer)
    assert json.loads((folder / "config.json").read_text())["num_hidden_layers"] == layer
    prompts = ["Everyone knows that the capital of France is Paris.\n\nIs this statement true?",
               "A whale is a fish.\n\nIs this statement true?"]
    with VLLMServer(folder, folder.name, tmp_path, ServeConfig(runner="pooling",
                                                               enable_lora=False)) as url:
        client = VLLMClient(url, folder.name)
        served = client.features(prompts)
        client.close()
    local = HFEngine(folder).features(prompts)
    assert served.shape == local.shape == (2, 1536)
    cos = (served * local).sum(1) / np.linalg.norm(served, axis=1) / np.linalg.norm(local, axis=1)
    assert cos.min() > 0.999 and np.abs(served - local).max() < 1e-2 * np.abs(local).max()
