"""Shipped weights are taken only when they match their pinned hashes, slices are
joined in order, and a truncated folder is the first k layers of the model."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from w2s.agent.student import models
from w2s.agent.student.models import ModelError, Source, feature_layer, gguf_file, truncated

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def sliced(tmp_path, monkeypatch):
    """A model shipped as two 'packages' on sys.path, one slice each."""
    data = [b"GGUF" + bytes(range(256)) * 3, b"tail" * 100]
    slices = []
    for k, blob in enumerate(data, 1):
        pkg = tmp_path / "site" / f"fake_weights_part{k}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("")
        (pkg / "data" / f"part{k:02d}.bin").write_bytes(blob)
        slices.append((f"fake-weights-part{k}", f"fake_weights_part{k}", f"data/part{k:02d}.bin",
                       hashlib.sha256(blob).hexdigest()))
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    source = Source(tuple(slices), hashlib.sha256(b"".join(data)).hexdigest(), "test")
    monkeypatch.setitem(models.SOURCES, "fake", source)
    return tmp_path / "site", b"".join(data)


def test_slices_are_joined_in_order_and_checked(sliced, tmp_path):
    _, whole = sliced
    path, joined = gguf_file("fake", tmp_path / "joined.gguf")
    assert joined and path.read_bytes() == whole


def test_a_flipped_byte_is_refused_naming_the_slice(sliced, tmp_path):
    site, _ = sliced
    part = site / "fake_weights_part2" / "data" / "part02.bin"
    blob = bytearray(part.read_bytes())
    blob[17] ^= 1
    part.write_bytes(bytes(blob))
    with pytest.raises(ModelError, match=r"refused.*fake-weights-part2"):
        gguf_file("fake", tmp_path / "joined.gguf")
    assert not (tmp_path / "joined.gguf").exists()  # nothing half-written is left


def test_a_missing_package_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setitem(models.SOURCES, "gone", Source(
        (("not-installed-weights", "not_installed_weights_xyz", "a.bin", "0" * 64),),
        "0" * 64, "test"))
    with pytest.raises(ModelError, match="not-installed-weights.*install.sh"):
        gguf_file("gone", tmp_path / "x")


def test_every_weight_package_is_pinned_by_version_and_hash():
    lines = [line for line in (ROOT / "weights.txt").read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert len(lines) == 2 + 22
    for line in lines:
        name, _, rest = line.partition("==")
        assert " --hash=sha256:" in rest and len(rest.split("sha256:")[1]) == 64, line
    assert "--require-hashes -r weights.txt" in (ROOT / "install.sh").read_text()
    shipped = {s[0] for src in models.SOURCES.values() for s in src.slices}
    assert shipped <= {line.split("==")[0] for line in lines}


def test_a_truncated_folder_is_the_first_layers_with_a_unit_norm(tmp_path, monkeypatch):
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=64, hidden_size=32, intermediate_size=64,
                         num_hidden_layers=6, num_attention_heads=4, num_key_value_heads=2,
                         tie_word_embeddings=False)
    full = AutoModelForCausalLM.from_config(config).eval()
    monkeypatch.setenv("W2S_CACHE", str(tmp_path / "cache"))
    folder = tmp_path / "tiny"
    full.save_pretrained(folder)
    (folder / models.MANIFEST).write_text(json.dumps({"files": {}}))
    assert feature_layer(folder, 0.67) == 4 and feature_layer(folder, 1.0) == 6
    assert truncated(folder, 6) == folder  # all layers: the model itself
    short = truncated(folder, 4)
    assert short.name == "tiny.layers-4" and models.verify(short)
    assert json.loads((short / "config.json").read_text())["num_hidden_layers"] == 4
    cut = AutoModelForCausalLM.from_pretrained(short).eval()
    ids = torch.tensor([[1, 5, 9, 33, 2]])
    with torch.no_grad():
        h = full(ids, output_hidden_states=True).hidden_states[4][0, -1]
        ours = cut(ids, output_hidden_states=True).hidden_states[-1][0, -1]
    rms = h / torch.sqrt(h.pow(2).mean() + config.rms_norm_eps)
    assert np.allclose(ours.numpy(), rms.numpy(), atol=1e-5)
    assert short.is_relative_to(tmp_path / "cache")  # a local folder's copy: in the cache
    assert truncated(folder, 4) == short  # once: a second call reuses it
    stamp = (short / "model.safetensors").stat().st_mtime_ns
    full.save_pretrained(folder)  # the source changed: the copy is made again
    assert truncated(folder, 4) == short and (short / "model.safetensors").stat().st_mtime_ns != stamp
    (folder / "model.safetensors").rename(folder / "weights.other")
    with pytest.raises(ModelError, match="no .safetensors"):
        truncated(folder, 4)
