"""vLLM's OpenAI-compatible server as a managed subprocess.

Bound to loopback, logs to the workspace, temp and cache files in the workspace,
stopped with its whole process group (and stopped by the kernel if w2s dies).
"""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .engines import EngineError


class ServeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    runner: Literal["generate", "pooling"] = "generate"  # pooling: last-token hidden states
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535)  # 0: any free port
    device: str = "auto"  # auto | cpu | cuda
    max_model_len: int = 2048
    kv_cache_gib: int = Field(default=2, ge=1)  # CPU only: KV cache size
    # KV cache block (tokens); None: vLLM's own on a GPU, 32 on the CPU (the smallest its
    # attention takes; its default of 128 is longer than the chat prompts' shared system
    # turn, which then never fills a block, and the prefix cache never hits)
    block_size: int | None = Field(default=None, ge=1)
    # auto: vLLM's choice on a GPU, float32 on the CPU. bfloat16 ran 2.1x faster on a
    # CPU with avx512_bf16 (bench/zero_shot_throughput.py), its answers within ~1e-2
    dtype: Literal["auto", "float32", "bfloat16"] = "auto"
    enable_lora: bool = True
    max_lora_rank: int = 16
    startup_timeout_s: float = 900.0
    extra_args: list[str] = []


CPU_BLOCK = 32


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    # the server gets SIGTERM if w2s dies, even by SIGKILL: no orphaned servers
    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setsid()


def _on_gpu(device: str) -> bool:
    if device != "auto":
        return device == "cuda"
    import torch
    return torch.cuda.is_available()


class VLLMServer:
    """`with VLLMServer(model_dir, "name", workspace) as url: ...`"""

    def __init__(self, model_dir: str | Path, served_name: str, workspace: str | Path,
                 config: ServeConfig | None = None):
        self.model_dir = Path(model_dir)
        self.served_name = served_name
        self.workspace = Path(workspace)
        self.config = config or ServeConfig()
        self.proc: subprocess.Popen | None = None
        self.port = self.config.port or free_port(self.config.host)
        self.url = f"http://{self.config.host}:{self.port}"
        self.log_path = self.workspace / "logs" / f"vllm-{self.port}.log"
        self.tmp_dir = self.workspace / "cache" / "vllm-tmp"
        self._tmp_link: Path | None = None

    def command(self) -> list[str]:
        c = self.config
        cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server",
               "--model", str(self.model_dir), "--served-model-name", self.served_name,
               "--host", c.host, "--port", str(self.port), "--max-model-len", str(c.max_model_len)]
        if c.runner == "pooling":
            # /v1/embeddings returns the final-norm hidden state of the last prompt token
            cmd += ["--runner", "pooling", "--convert", "embed", "--pooler-config",
                    '{"pooling_type": "LAST", "use_activation": false}']
        else:
            # with allowed_token_ids, return the label tokens' log-probs, renormalized
            cmd += ["--logprobs-mode", "processed_logprobs"]
        if c.block_size is not None or not _on_gpu(c.device):
            cmd += ["--block-size", str(c.block_size or CPU_BLOCK)]
        if c.enable_lora:
            cmd += ["--enable-lora", "--max-lora-rank", str(c.max_lora_rank)]
        if not _on_gpu(c.device):
            # eager mode is ready in ~30 s, not ~100 s
            cmd += ["--dtype", "float32" if c.dtype == "auto" else c.dtype, "--enforce-eager"]
        elif c.dtype != "auto":
            cmd += ["--dtype", c.dtype]
        return cmd + c.extra_args

    def _short_tmp(self) -> Path:
        """vLLM binds unix sockets in TMPDIR, and a socket path has at most 107 bytes.
        A deep workspace gets a short link in the system temp folder, removed on stop;
        the files (kept kernels too) stay in the workspace."""
        if len(str(self.tmp_dir.resolve())) <= 48:
            return self.tmp_dir
        if self._tmp_link is None:
            link = Path(tempfile.mkdtemp(prefix="w2s-")) / "t"
            link.symlink_to(self.tmp_dir.resolve(), target_is_directory=True)
            self._tmp_link = link
        return self._tmp_link

    def environment(self) -> dict[str, str]:
        cache = self.workspace / "cache"
        env = {**os.environ, "VLLM_ALLOW_RUNTIME_LORA_UPDATING": "True",
               "TMPDIR": str(self._short_tmp()), "VLLM_CACHE_ROOT": str(cache / "vllm"),
               "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor"),
               "VLLM_NO_USAGE_STATS": "1", "HF_HUB_OFFLINE": "1"}
        if not _on_gpu(self.config.device):
            # otherwise one of two cores sits idle and throughput halves
            env["VLLM_CPU_NUM_OF_RESERVED_CPU"] = "0"
            env["VLLM_CPU_KVCACHE_SPACE"] = str(self.config.kv_cache_gib)
        return env

    def start(self) -> str:
        if self.proc is not None:
            return self.url
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp_dir.mkdir(parents=True, exist_ok=True)
        self._tmp_before = set(os.listdir(self.tmp_dir))
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(self.command(), env=self.environment(), stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent)
        log.close()
        self._wait_ready()
        return self.url

    def _wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + self.config.startup_timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log_tail()
                self.proc = None
                self._clean_tmp()
                raise EngineError(f"vLLM server exited during start-up (log: {self.log_path}):\n"
                                  f"{tail}")
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        self.stop()
        raise EngineError(f"vLLM server not ready after {self.config.startup_timeout_s:.0f} s "
                          f"(log: {self.log_path})")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout_s: float = 30.0) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        except ProcessLookupError:
            pass
        self._kill_leftovers()
        self.proc = None
        self._clean_tmp()

    def _clean_tmp(self) -> None:
        # sockets and rendezvous files of this run; compiled kernels are kept for the next
        for name in set(os.listdir(self.tmp_dir)) - self._tmp_before:
            path = self.tmp_dir / name
            if not path.is_dir():
                path.unlink(missing_ok=True)
        if self._tmp_link is not None:
            self._tmp_link.unlink(missing_ok=True)
            self._tmp_link.parent.rmdir()
            self._tmp_link = None

    def _kill_leftovers(self) -> None:
        """Any process still in the server's group gets SIGKILL."""
        try:
            os.killpg(self.proc.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(1)
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
