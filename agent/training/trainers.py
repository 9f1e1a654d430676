"""The student's two heads trained and applied over a fixed set of items (the
training pool and the test set), one model version at a time.

Probe mode computes features once (through a vLLM pooling server, or transformers)
and trains small heads on them; LoRA mode trains adapters in-process and serves
each one through the running vLLM server. Either way `fit` saves the model under
the workspace and `predict` returns both heads' P(label 1) for a split.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal

import numpy as np

from w2s.store import Dataset, Item, stable_id

from ..student import HEADS, Head, Student, StudentConfig
from ..student.engines import collect
from .config import TrainConfig
from .consistency import ConsistencyData
from .lora import load_adapter, train_lora
from .probe import ProbeHeads, label_direction

Split = Literal["train", "test"]


class ProbeTrainer:
    """Probe heads on frozen features from a vLLM pooling server (or transformers)."""

    def __init__(self, student_config: StudentConfig, dataset: Dataset, train: list[Item],
                 test: list[Item], models: Path, workspace: Path,
                 say: Callable[[str], None] = lambda _: None):
        student_config = student_config.model_copy(
            update={"serve": student_config.serve.model_copy(update={"runner": "pooling"})})
        student = Student(student_config, workspace)
        self.student, self.cache, self.say = student, workspace / "cache" / "features", say
        self.dataset, self.train_items = dataset, train
        feats = features(student, train + test, dataset, self.cache, say)
        self.direction = label_direction(student.model_dir, student.prompter.label_ids)
        n = len(train)
        self.feats = {"train": {h.value: f[:n] for h, f in feats.items()},
                      "test": {h.value: f[n:] for h, f in feats.items()}}
        self.models = models

    def zero_shot_logits(self) -> np.ndarray:
        return ProbeHeads(self.direction).prior_logits(self.feats["test"]["true"])

    def fit(self, rows: np.ndarray, targets: np.ndarray, gold: np.ndarray, cfg: TrainConfig,
            version: str) -> None:
        f = self.feats["train"]
        heads = ProbeHeads(self.direction).fit(f["weak"][rows], f["true"][rows], targets,
                                               gold, cfg, self._consistency(rows, cfg))
        self.models.mkdir(parents=True, exist_ok=True)
        tmp = self._path(version).with_suffix(".partial.npz")
        heads.save(tmp)
        tmp.rename(self._path(version))

    def predict(self, version: str | None, split: Split) -> tuple[np.ndarray, np.ndarray]:
        """(weak head, truth head) P(label 1); version None is the prompted student."""
        heads = ProbeHeads(self.direction) if version is None else ProbeHeads.load(
            self._path(version))
        f = self.feats[split]
        return heads.predict(f["weak"], f["true"])

    def _consistency(self, rows: np.ndarray, cfg: TrainConfig) -> ConsistencyData | None:
        if not cfg.consistency:
            return None
        items = [self.train_items[k] for k in rows]
        names = {i.group_id for i in items if i.group_id}
        index = {g: k for k, g in enumerate(sorted(names))}
        groups = np.array([index.get(i.group_id, -1) for i in items])
        negated = None
        if "negation" in cfg.consistency:
            from w2s.checks.variants import NEGATED
            negated = prompt_features(self.student, [
                NEGATED.prompt(self.student.prompter, i, self.dataset) for i in items],
                self.cache, self.say, keep_open=True)
        return ConsistencyData(groups, negated)

    def predict_prompts(self, version: str | None, prompts: list[str]) -> np.ndarray:
        """The truth head applied to other prompts (check variants): P(label 1)."""
        heads = ProbeHeads(self.direction) if version is None else ProbeHeads.load(
            self._path(version))
        f = prompt_features(self.student, prompts, self.cache, self.say, keep_open=True)
        return heads.predict(f, f)[1]

    def _path(self, version: str) -> Path:
        return self.models / f"{version.replace(':', '-')}.npz"

    def close(self) -> None:
        self.student.close()


class LoraTrainer:
    """LoRA adapters trained in-process, each hot-loaded into one vLLM server that
    then makes the predictions."""

    def __init__(self, student_config: StudentConfig, dataset: Dataset, train: list[Item],
                 test: list[Item], models: Path, workspace: Path, lora_rank: int,
                 say: Callable[[str], None] = lambda _: None):
        serve = student_config.serve.model_copy(
            update={"enable_lora": True, "max_lora_rank": lora_rank})
        self.student = Student(student_config.model_copy(update={"serve": serve}), workspace)
        self.dataset, self.items, self.say = dataset, {"train": train, "test": test}, say
        self.models, self.loaded = models, set()
        if student_config.engine == "vllm" and student_config.url is None:
            say("starting the student's vLLM server")
        self.student.open()
        self.base = self.student.name

    def zero_shot_logits(self) -> np.ndarray:
        _, p = self.predict(None, "test")
        return np.log(p) - np.log1p(-p)

    def fit(self, rows, targets, gold, cfg: TrainConfig, version: str) -> None:
        items = [self.items["train"][k] for k in rows]
        self.say(f"LoRA {version}: {len(items)} items x 2 heads")
        train_lora(self.student.model_dir,
                   self.student.prompts(items, self.dataset, [Head.weak]),
                   self.student.prompts(items, self.dataset, [Head.true]),
                   targets, gold, self.student.prompter.label_ids, cfg, self._path(version))

    def predict(self, version: str | None, split: Split) -> tuple[np.ndarray, np.ndarray]:
        self._activate(version)
        probs = self.student.predict(self.items[split], self.dataset)
        return probs[Head.weak], probs[Head.true]

    def _activate(self, version: str | None) -> None:
        """Point the engine at the adapter of version (None: the base model)."""
        name = self.base if version is None else version.replace(":", "-")
        if version is not None and self.student.config.engine == "hf":
            if name in self.loaded:
                self.student.engine.model.set_adapter(name)
            else:
                self.student.engine.use_adapter(self._path(version), name)
        elif version is not None and name not in self.loaded:
            load_adapter(self.student.engine.url, name, self._path(version))
        self.loaded.add(name)
        self.student.use_model(name)

    def predict_prompts(self, version: str | None, prompts: list[str]) -> np.ndarray:
        self._activate(version)
        logprobs = collect(self.student.engine.label_logprobs(prompts, self.student.prompter.label_ids),
                           len(prompts), 2)
        return np.exp(logprobs[:, 1])

    def _path(self, version: str) -> Path:
        return self.models / version.replace(":", "-")

    def close(self) -> None:
        self.student.close()


def make_trainer(cfg: TrainConfig, student: StudentConfig, dataset: Dataset, train: list[Item],
                 test: list[Item], models: Path, workspace: Path,
                 say: Callable[[str], None] = lambda _: None) -> ProbeTrainer | LoraTrainer:
    if cfg.mode == "lora":
        return LoraTrainer(student, dataset, train, test, models, workspace, cfg.lora_rank, say)
    return ProbeTrainer(student, dataset, train, test, models, workspace, say)


def features(student: Student, items: Sequence[Item], dataset: Dataset, cache: Path,
             say: Callable[[str], None]) -> dict:
    """Both heads' features, computed once per model and prompt set (kept in the
    workspace cache: rerunning with other losses or seeds costs no model time)."""
    prompts = student.prompts(items, dataset)  # item-major: weak, true, weak, true, ...
    say_what = f"student features for {len(items)} items x 2 heads"
    f = prompt_features(student, prompts, cache, lambda _: say(say_what))
    return {h: f[k::len(HEADS)] for k, h in enumerate(HEADS)}


def prompt_features(student: Student, prompts: list[str], cache: Path,
                    say: Callable[[str], None], keep_open: bool = False) -> np.ndarray:
    """Last-token hidden states of prompts, cached by model and prompts."""
    path = cache / f"{stable_id(student.model_version, *prompts)}.npz"
    if path.exists():
        with np.load(path) as data:
            if "features" in data:
                return data["features"]
            return np.stack([data[h.value] for h in HEADS], 1).reshape(len(prompts), -1)
    say(f"student features for {len(prompts)} prompts "
        f"({'vLLM pooling server' if student.config.engine == 'vllm' else 'transformers'})")
    if keep_open and student.engine is None:
        student.open()  # the caller closes it: later prompt sets skip a server start
    if student.engine is not None:
        feats = student.engine.features(prompts)
    else:
        with student:
            feats = student.engine.features(prompts)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.npz")
    np.savez(tmp, features=feats)
    tmp.rename(path)
    return feats
