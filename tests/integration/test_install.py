"""What install.sh promises about the vLLM engine, checked in the environment it made."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
needs_vllm = pytest.mark.skipif(importlib.util.find_spec("vllm") is None,
                                reason="installed with --engine none")


def test_transformers_loads_llama_classes():
    r = subprocess.run([sys.executable, "-c",
                        "from transformers import LlamaConfig, LlamaForCausalLM, AutoTokenizer"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@needs_vllm
def test_broken_torch_companions_are_gone_beside_cpu_torch():
    import torch
    if "+cpu" not in torch.__version__:
        pytest.skip("GPU build: torchvision and friends match it")
    for name in ("torchvision", "torchaudio", "torchcodec"):
        assert importlib.util.find_spec(name) is None, name


@needs_vllm
def test_the_vllm_command_works():
    vllm = Path(sys.executable).parent / "vllm"
    r = subprocess.run([str(vllm), "--version"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip().splitlines()[-1].startswith("0.32.0")
