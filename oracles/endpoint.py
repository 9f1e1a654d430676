"""Any OpenAI-compatible chat endpoint as a (weak) supervisor: a second vLLM model,
a hosted API, a local server. It answers the dataset's yes/no question; the
confidence is the top log-prob of its answer word where the endpoint gives one."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence

from w2s.store import Dataset, Item

from .base import Answer, Oracle


class EndpointOracle(Oracle):
    chunk_size = 16

    def __init__(self, dataset: Dataset, url: str, model: str | None = None, cost: float = 0.0,
                 api_key_env: str | None = None, timeout_s: float = 120.0, retries: int = 3,
                 words: tuple[str, str] = ("No", "Yes"), name: str | None = None):
        import httpx

        self.dataset, self.cost, self.words, self.retries = dataset, cost, words, retries
        headers = {}
        if api_key_env:
            if api_key_env not in os.environ:
                raise ValueError(f"endpoint oracle: ${api_key_env} is not set")
            headers["Authorization"] = f"Bearer {os.environ[api_key_env]}"
        self.http = httpx.Client(base_url=url.rstrip("/"), timeout=timeout_s, headers=headers)
        self.model = model or self._post("GET", "/v1/models")["data"][0]["id"]
        self.name = name or f"endpoint:{self.model}"

    def _post(self, method: str, path: str, body: dict | None = None) -> dict:
        import httpx

        for attempt in range(self.retries + 1):
            try:
                r = self.http.request(method, path, json=body)
                if r.status_code < 500:
                    r.raise_for_status()
                    return r.json()
            except httpx.TransportError:
                pass
            except httpx.HTTPStatusError as e:
                raise ValueError(f"endpoint {self.http.base_url}{path}: {e.response.status_code} "
                                 f"{e.response.text[:300]}") from e
            if attempt < self.retries:
                time.sleep(2 ** attempt)
        raise ValueError(f"endpoint {self.http.base_url}{path}: no answer after "
                         f"{self.retries + 1} attempts")

    def _ask_one(self, item: Item) -> Answer | None:
        no, yes = self.words
        question = item.question or self.dataset.question
        body = {"model": self.model, "max_tokens": 1, "temperature": 0, "logprobs": True,
                "top_logprobs": 5,
                "messages": [{"role": "user", "content":
                              f"{item.text}\n\n{question} Answer {yes} or {no}."}]}
        choice = self._post("POST", "/v1/chat/completions", body)["choices"][0]
        top = ((choice.get("logprobs") or {}).get("content") or [{}])[0].get("top_logprobs", [])
        probs = {w: 0.0 for w in self.words}
        for entry in top:
            word = entry["token"].strip()
            if word in probs:
                probs[word] += math.exp(entry["logprob"])
        if sum(probs.values()) > 0:
            p_yes = probs[yes] / (probs[yes] + probs[no])
            return Answer(int(p_yes > 0.5), max(p_yes, 1 - p_yes))
        text = (choice["message"].get("content") or "").strip().lower()
        if text.startswith(yes.lower()) or text.startswith(no.lower()):
            return Answer(int(text.startswith(yes.lower())), None)
        return None  # neither word: a skip, logged as such

    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        return [self._ask_one(i) for i in items]
