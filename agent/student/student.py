"""The strong student: one model, two heads (weak-label head and truth head)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from w2s.store import Dataset, Item, Prediction, Store

from .engines import Engine, HFEngine, VLLMClient, collect
from .models import DEFAULT_MODEL, resolve

FEATURE_DEPTH = 0.7  # bench/feature_depth.py: best mean probe accuracy over two tasks
from .prompts import HEADS, LABEL_WORDS, Head, Prompter
from .server import ServeConfig, VLLMServer


class StudentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = DEFAULT_MODEL  # a shipped model's name, or any local HF causal-LM folder
    engine: Literal["vllm", "hf"] = "vllm"
    url: str | None = None  # an existing vLLM server; None: w2s starts one
    served_name: str | None = None  # the model's name on that server (default: its first)
    # probe mode: an existing vLLM pooling server for features (serving the truncated
    # folder `w2s model prepare` writes); None: w2s starts one. `url` still answers the
    # zero-shot prompts, since one vLLM server is either a generate or a pooling server
    features_url: str | None = None
    label_words: tuple[str, str] = LABEL_WORDS
    # probe mode: features are the last-token state of the layer at this fraction of
    # the model's depth (1.0: the last layer), from a truncated copy of the model
    feature_depth: float = Field(default=FEATURE_DEPTH, gt=0, le=1)
    # prompts per request to the engine (batch_size: its name before w2s 0.2, still read)
    request_batch: int = Field(default=32, ge=1,
                               validation_alias=AliasChoices("request_batch", "batch_size"))
    concurrency: int = Field(default=2, ge=1)
    timeout_s: float = Field(default=300.0, gt=0)
    retries: int = Field(default=3, ge=0)
    serve: ServeConfig = ServeConfig()


class Student:
    """`with Student(config, workspace) as s: s.predict(items, dataset)`."""

    def __init__(self, config: StudentConfig, workspace: str | Path, chat: bool = True):
        from transformers import AutoTokenizer

        self.config = config
        self.workspace = Path(workspace)
        self.model_dir = resolve(config.model)
        self.name = config.served_name or self.model_dir.name
        self.prompter = Prompter(AutoTokenizer.from_pretrained(self.model_dir),
                                 config.label_words, chat=chat)
        self.server: VLLMServer | None = None
        self.engine: Engine | None = None
        self.model_version = self.name

    def open(self) -> "Student":
        c = self.config
        if c.engine == "hf":
            self.engine = HFEngine(self.model_dir, batch_size=min(c.request_batch, 16))
            return self
        url = c.url
        if url is None:
            self.server = VLLMServer(self.model_dir, self.name, self.workspace, c.serve)
            url = self.server.start()
        client = VLLMClient(url, self.name, batch_size=c.request_batch, concurrency=c.concurrency,
                            timeout_s=c.timeout_s, retries=c.retries)
        if c.url is not None and c.served_name is None:
            client.model = client.model_version = self.name = client.models()[0]
            self.model_version = self.name
        self.engine = client
        return self

    def use_model(self, name: str) -> None:
        """Predict with another model on the same engine: a LoRA adapter's name."""
        self.engine.model_version = self.model_version = name
        if isinstance(self.engine, VLLMClient):
            self.engine.model = name

    def close(self) -> None:
        if isinstance(self.engine, VLLMClient):
            self.engine.close()
        if self.server is not None:
            self.server.stop()
        self.engine, self.server = None, None

    def __enter__(self) -> "Student":
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def prompts(self, items: Sequence[Item], dataset: Dataset,
                heads: Sequence[Head] = HEADS) -> list[str]:
        """Item-major: the heads of one item sit together and share its prefix."""
        return [self.prompter.head(item, dataset, head) for item in items for head in heads]

    def predict(self, items: Sequence[Item], dataset: Dataset, heads: Sequence[Head] = HEADS,
                on_batch: Callable[[list[tuple[Item, Head, float]]], None] | None = None
                ) -> dict[Head, np.ndarray]:
        """P(label 1) per head and item. on_batch sees each finished batch as it lands."""
        if self.engine is None:
            raise RuntimeError("open the student first (with Student(...) as s: ...)")
        prompts = self.prompts(items, dataset, heads)
        k = len(heads)

        def land(start: int, rows: np.ndarray) -> None:
            if on_batch:
                on_batch([(items[(start + j) // k], heads[(start + j) % k], float(np.exp(r[1])))
                          for j, r in enumerate(rows)])

        logprobs = collect(self.engine.label_logprobs(prompts, self.prompter.label_ids),
                           len(prompts), 2, land)
        probs = np.exp(logprobs[:, 1]).reshape(len(items), k)
        return {head: probs[:, h] for h, head in enumerate(heads)}

    def feature_prompts(self, items: Sequence[Item], dataset: Dataset) -> list[str]:
        return [self.prompter.features(item, dataset) for item in items]

    def predict_to_store(self, store: Store, items: Sequence[Item], dataset: Dataset,
                         campaign_id: str, round: int, heads: Sequence[Head] = HEADS,
                         on_batch: Callable[[int], None] | None = None) -> dict[Head, np.ndarray]:
        """Predict and log every batch the moment it lands: a dead server loses nothing
        already computed."""
        def write(batch: list[tuple[Item, Head, float]]) -> None:
            store.write(Prediction(campaign_id=campaign_id, round=round, item_id=item.id,
                                   head=head.value, prob=min(max(p, 0.0), 1.0),
                                   model_version=self.model_version)
                        for item, head, p in batch)
            if on_batch:
                on_batch(len(batch))

        return self.predict(items, dataset, heads, on_batch=write)
