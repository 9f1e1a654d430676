"""Two engines that give the same numbers for the same prompts: a vLLM server
(any OpenAI-compatible vLLM deployment) and transformers in-process.

Both answer one question: for each prompt, the log-probabilities of the two label
tokens at the next position, renormalized over the two. Both also write text
(greedy), for the edits the student makes to test its supervisor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from typing import Protocol

import numpy as np


class EngineError(RuntimeError):
    pass


# progress of a long step: track(description, total) gives advance(n), called per batch
Track = Callable[[str, int], Callable[[int], None]]


def no_track(description: str, total: int) -> Callable[[int], None]:
    return lambda n: None


class Engine(Protocol):
    model_version: str

    def label_logprobs(self, prompts: Sequence[str], label_ids: Sequence[int]
                       ) -> Iterator[tuple[int, np.ndarray]]:
        """Yields (start, [n, len(label_ids)] log-probs) per finished batch, in any order."""

    def generate(self, prompts: Sequence[str], max_tokens: int
                 ) -> Iterator[tuple[int, list[str]]]:
        """Yields (start, greedy continuations) per finished batch, in any order."""


def renormalize(logprobs: np.ndarray) -> np.ndarray:
    """Log-probs over the label set only (rows sum to 1 in probability)."""
    top = logprobs.max(axis=1, keepdims=True)
    return logprobs - (top + np.log(np.exp(logprobs - top).sum(axis=1, keepdims=True)))


def _batches(n: int, size: int) -> list[tuple[int, int]]:
    return [(s, min(s + size, n)) for s in range(0, n, size)]


class HFEngine:
    """transformers in-process, on the CPU or a GPU. Also gives hidden-state features."""

    def __init__(self, model_path: str | Path, batch_size: int = 16, device: str | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = AutoTokenizer.from_pretrained(model_path)
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype=torch.float32)
        self.model.to(self.device).eval()
        self.batch_size = batch_size
        self.model_version = Path(model_path).name

    def use_adapter(self, path: str | Path, name: str) -> None:
        """Load a LoRA adapter (peft) and make it the active one."""
        from peft import PeftModel

        if isinstance(self.model, PeftModel):
            self.model.load_adapter(str(path), adapter_name=name)
        else:
            self.model = PeftModel.from_pretrained(self.model, str(path), adapter_name=name)
        self.model.set_adapter(name)
        self.model.eval()

    def _forward(self, prompts: Sequence[str], hidden: bool = False):
        # right padding: each prompt keeps positions 0..len-1, as when scored alone
        enc = self.tokenizer(list(prompts), add_special_tokens=False, padding=True,
                             padding_side="right", return_tensors="pt").to(self.device)
        # features need no logits: skip the vocabulary projection but for one position
        extra = {"logits_to_keep": 1} if hidden else {}
        with self.torch.inference_mode():
            out = self.model(**enc, output_hidden_states=hidden, **extra)
        last = enc["attention_mask"].sum(dim=1) - 1
        rows = self.torch.arange(len(prompts), device=self.device)
        return out, rows, last

    def _by_length(self, prompts: Sequence[str]) -> list[list[int]]:
        """Batches of indices of similar length, so padding costs little."""
        lengths = [len(p) for p in prompts]
        order = sorted(range(len(prompts)), key=lengths.__getitem__)
        return [order[s:e] for s, e in _batches(len(order), self.batch_size)]

    def label_logprobs(self, prompts: Sequence[str], label_ids: Sequence[int]
                       ) -> Iterator[tuple[int, np.ndarray]]:
        ids = self.torch.tensor(list(label_ids), device=self.device)
        for batch in self._by_length(prompts):
            out, rows, last = self._forward([prompts[i] for i in batch])
            logits = out.logits[rows, last].float()
            chosen = self.torch.log_softmax(logits, dim=-1)[:, ids].cpu().numpy()
            for i, row in zip(batch, renormalize(chosen.astype(np.float64))):
                yield i, row[None, :]

    def generate(self, prompts: Sequence[str], max_tokens: int
                 ) -> Iterator[tuple[int, list[str]]]:
        tok = self.tokenizer
        for batch in self._by_length(prompts):
            # left padding: every prompt ends where generation starts
            enc = tok([prompts[i] for i in batch], add_special_tokens=False, padding=True,
                      padding_side="left", return_tensors="pt").to(self.device)
            with self.torch.inference_mode():
                out = self.model.generate(**enc, max_new_tokens=max_tokens, do_sample=False,
                                          pad_token_id=tok.pad_token_id)
            texts = tok.batch_decode(out[:, enc["input_ids"].shape[1]:], skip_special_tokens=True)
            for i, text in zip(batch, texts):
                yield i, [text]

    def features(self, prompts: Sequence[str], layer: int | Sequence[int] = -1,
                 advance: Callable[[int], None] = lambda n: None) -> np.ndarray:
        """Hidden state of the last prompt token at `layer` (-1: after the final norm;
        0: the embeddings), [n, d]; or at several layers from one pass, [n, layers, d]."""
        out_rows: dict[int, np.ndarray] = {}
        many = not isinstance(layer, int)
        for batch in self._by_length(prompts):
            out, rows, last = self._forward([prompts[i] for i in batch], hidden=True)
            states = [out.hidden_states[k][rows, last] for k in (layer if many else [layer])]
            feats = self.torch.stack(states, 1).float().cpu().numpy()
            out_rows.update(zip(batch, feats if many else feats[:, 0]))
            advance(len(batch))
        return np.stack([out_rows[i] for i in range(len(prompts))])


class VLLMClient:
    """A vLLM server's /v1/completions, batched, concurrent, with retries.

    The server must run with `--logprobs-mode processed_logprobs`, so that with
    `allowed_token_ids` the returned top log-probs are exactly the label tokens.
    """

    def __init__(self, url: str, model: str, batch_size: int = 32, concurrency: int = 2,
                 timeout_s: float = 300.0, retries: int = 3, backoff_s: float = 1.0):
        import httpx

        self.url = url.rstrip("/")
        self.model = model
        self.model_version = model
        self.batch_size, self.concurrency = batch_size, concurrency
        self.retries, self.backoff_s = retries, backoff_s
        self.http = httpx.Client(base_url=self.url, timeout=timeout_s)
        self._transient = (httpx.TransportError, httpx.TimeoutException)

    def close(self) -> None:
        self.http.close()

    def _post(self, path: str, body: dict) -> dict:
        delay = self.backoff_s
        for attempt in range(self.retries + 1):
            try:
                r = self.http.post(path, json=body)
            except self._transient as e:
                error = f"{type(e).__name__}: {e}"
            else:
                if r.status_code < 500:
                    if r.status_code >= 400:
                        raise EngineError(f"vLLM server at {self.url} refused {path} "
                                          f"({r.status_code}): {r.text[:500]}")
                    return r.json()
                error = f"HTTP {r.status_code}: {r.text[:300]}"
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        raise EngineError(f"vLLM server at {self.url} failed {path} after "
                          f"{self.retries + 1} attempts: {error}")

    def _score(self, prompts: Sequence[str], label_ids: Sequence[int]) -> np.ndarray:
        body = {"model": self.model, "prompt": list(prompts), "max_tokens": 1,
                "temperature": 1.0, "logprobs": len(label_ids),
                "allowed_token_ids": list(label_ids), "add_special_tokens": False,
                "return_tokens_as_token_ids": True}
        choices = sorted(self._post("/v1/completions", body)["choices"],
                         key=lambda c: c["index"])
        out = np.empty((len(prompts), len(label_ids)))
        for c in choices:
            top = c["logprobs"]["top_logprobs"][0]
            try:
                out[c["index"]] = [top[f"token_id:{t}"] for t in label_ids]
            except KeyError as e:
                raise EngineError(f"vLLM server at {self.url} did not return the log-prob of "
                                  f"label token {e}: start it with --logprobs-mode "
                                  "processed_logprobs (w2s serve does)") from None
        return renormalize(out)

    def label_logprobs(self, prompts: Sequence[str], label_ids: Sequence[int]
                       ) -> Iterator[tuple[int, np.ndarray]]:
        spans = _batches(len(prompts), self.batch_size)
        with ThreadPoolExecutor(self.concurrency) as pool:
            futures = [(s, pool.submit(self._score, prompts[s:e], label_ids)) for s, e in spans]
            try:
                for s, f in futures:
                    yield s, f.result()
            finally:
                for _, f in futures:
                    f.cancel()

    def _complete(self, prompts: Sequence[str], max_tokens: int) -> list[str]:
        body = {"model": self.model, "prompt": list(prompts), "max_tokens": max_tokens,
                "temperature": 0.0, "seed": 0, "add_special_tokens": False}
        choices = sorted(self._post("/v1/completions", body)["choices"],
                         key=lambda c: c["index"])
        return [c["text"] for c in choices]

    def generate(self, prompts: Sequence[str], max_tokens: int
                 ) -> Iterator[tuple[int, list[str]]]:
        spans = _batches(len(prompts), self.batch_size)
        with ThreadPoolExecutor(self.concurrency) as pool:
            futures = {pool.submit(self._complete, prompts[s:e], max_tokens): s for s, e in spans}
            try:
                for f in as_completed(futures):
                    yield futures[f], f.result()
            finally:
                for f in futures:
                    f.cancel()

    def _embed(self, prompts: Sequence[str]) -> np.ndarray:
        body = {"model": self.model, "input": list(prompts), "add_special_tokens": False}
        data = sorted(self._post("/v1/embeddings", body)["data"], key=lambda d: d["index"])
        return np.array([d["embedding"] for d in data], dtype=np.float32)

    def features(self, prompts: Sequence[str], layer: int = -1,
                 advance: Callable[[int], None] = lambda n: None) -> np.ndarray:
        """Last-token hidden states from a pooling server (ServeConfig(runner="pooling")):
        the model's last layer, so serve a truncated folder for a middle one."""
        if layer != -1:
            raise EngineError("a vLLM pooling server gives the last layer only")
        spans = _batches(len(prompts), self.batch_size)
        with ThreadPoolExecutor(self.concurrency) as pool:
            futures = {pool.submit(self._embed, prompts[s:e]): s for s, e in spans}
            parts = {}
            try:
                for f in as_completed(futures):
                    parts[futures[f]] = f.result()
                    advance(len(parts[futures[f]]))
            finally:  # a failure or Ctrl-C does not wait for the queued batches
                for f in futures:
                    f.cancel()
        return (np.concatenate([parts[s] for s in sorted(parts)]) if parts
                else np.zeros((0, 0), np.float32))

    def models(self) -> list[str]:
        try:
            r = self.http.get("/v1/models")
            r.raise_for_status()
        except Exception as e:  # noqa: BLE001  (any failure here means: not reachable)
            raise EngineError(f"no vLLM server at {self.url}: {e}") from e
        return [m["id"] for m in r.json()["data"]]


def collect(results: Iterator[tuple[int, np.ndarray]], n: int, k: int,
            on_batch: Callable[[int, np.ndarray], None] | None = None) -> np.ndarray:
    """Gather an engine's batches into one [n, k] array, calling on_batch as they come."""
    out = np.full((n, k), np.nan)
    for start, rows in results:
        out[start:start + len(rows)] = rows
        if on_batch:
            on_batch(start, rows)
    return out
