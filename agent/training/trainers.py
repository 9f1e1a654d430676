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
from typing import TYPE_CHECKING, Literal, NamedTuple, Protocol

import numpy as np

from w2s.store import Dataset, Item, stable_id, versions

from ..student import HEADS, Head, Prompter, Student, StudentConfig
from ..student.engines import Track, collect, no_track
from ..student.models import feature_layer, needs_prepare, truncated
from .config import TrainConfig

if TYPE_CHECKING:  # torch: imported where the heads are fit or read
    from .consistency import ConsistencyData
    from .probe import ProbeHeads

Split = Literal["train", "test"]
OTHER = "(no training category)"  # the mistake model's region of items outside them


class Contrasted(NamedTuple):
    """An edit the student wrote of a training item: the item's row, the edit as an
    item, and whether it is meant to flip the truth."""
    row: int
    edit: Item
    flips: bool


class Trainer(Protocol):
    """A student in either mode, as the campaign and the experiment use it: rows index
    the training items, versions name saved models (None: the untrained student)."""
    student: Student  # the full model with its chat prompts
    prompter: Prompter  # renders prompts as the truth head reads them

    def fit(self, rows: np.ndarray, targets: np.ndarray, gold: np.ndarray, cfg: TrainConfig,
            version: str, contrasts: Sequence[Contrasted] = ()) -> dict:
        """Train both heads (targets: the supervisor's P(label 1); gold: 1/0, -1 none;
        contrasts: edits the student wrote of training items) and save them as version;
        returns what was chosen on the way."""

    def predict(self, version: str | None, split: Split) -> tuple[np.ndarray, np.ndarray]:
        """(weak head, truth head) P(label 1) on a split's items."""

    def predict_prompts(self, version: str | None, prompts: list[str],
                        items: Sequence[Item]) -> np.ndarray:
        """The truth head's P(label 1) for other prompts of these items."""

    def features(self, split: Split) -> np.ndarray | None:
        """What the truth head reads per item (probe mode), or None."""

    def zero_shot_logits(self, split: Split = "test") -> np.ndarray:
        """The prompted student's logit of label 1 on a split's items."""

    def truth_sd(self, version: str | None, split: Split) -> np.ndarray | None:
        """The truth logit's posterior sd (the mistake model), or None."""

    def supervisor_accuracy(self, version: str | None, split: Split, rows: np.ndarray,
                            said: np.ndarray) -> dict:
        """Region -> (mean, lo, hi) of the supervisor's accuracy as the student sees it."""

    def source_accuracy(self, version: str | None) -> dict[str, dict[str, tuple]]:
        """Region -> label-free source -> (mean, lo, hi), as the zero-gold head saw them."""

    def release(self) -> None:
        """Stop the engines `student` does not need (they restart when used): the
        student's generate engine must not run beside a second copy of the model."""

    def close(self) -> None: ...


class ProbeTrainer:
    """Two linear heads on one frozen feature vector per item: the last-token state of
    a middle layer for one short prompt, from a vLLM pooling server on a truncated copy
    of the model (or transformers). The zero-shot baseline is the full model's
    label-token probability under the truth-head prompt, computed once per test item."""

    def __init__(self, student_config: StudentConfig, dataset: Dataset, train: list[Item],
                 test: list[Item], models: Path, workspace: Path,
                 say: Callable[[str], None] = lambda _: None, track: Track = no_track):
        serve = student_config.serve.model_copy(update={"enable_lora": False})
        if needs_prepare(student_config.model):
            say(f"preparing {student_config.model}: joining, checking and converting its "
                "weights (first run only, a few minutes)")
        # the full model, chat prompts: zero-shot answers (and the plausibility check)
        self.student = Student(student_config.model_copy(update={"serve": serve}), workspace)
        layer = feature_layer(self.student.model_dir, student_config.feature_depth)
        say(f"features: layer {layer} of {self.student.model_dir.name}")
        folder = truncated(self.student.model_dir, layer)
        self.features_student = Student(student_config.model_copy(update={
            "model": str(folder), "url": student_config.features_url, "served_name": None,
            "serve": serve.model_copy(update={"runner": "pooling"})}), workspace, chat=False)
        self.prompter = self.features_student.prompter  # what the truth head reads
        self.cache, self.say, self.track = workspace / "cache" / "features", say, track
        self.dataset, self.train_items, self.test_items = dataset, train, test
        f = prompt_features(self.features_student,
                            self.features_student.feature_prompts(train + test, dataset),
                            self.cache, say, track)
        # standardized on every training item (no labels used): probe steps and the L2
        # penalty then mean the same in every direction
        self.mean, self.scale = f[:len(train)].mean(0), f[:len(train)].std(0) + 1e-6
        f = self._standardize(f)
        n = len(train)
        self.feats = {"train": {h.value: f[:n] for h in HEADS},
                      "test": {h.value: f[n:] for h in HEADS}}
        self.models = models
        # the mistake model's regions: the training items' categories
        self.region_names = sorted({i.category for i in train if i.category})
        self.groups = np.array([i.group_id or i.id for i in train])
        self.regions = {"train": self.regions_of(train), "test": self.regions_of(test)}

    def regions_of(self, items: Sequence[Item]) -> np.ndarray:
        """Region index per item; -1 for a category no training item has."""
        index = {c: k for k, c in enumerate(self.region_names)}
        return np.array([index.get(i.category, -1) for i in items], int)

    def _standardize(self, f: np.ndarray, own: bool = False) -> np.ndarray:
        """own: by the prompts' own statistics. Another template (a negated or reworded
        question) shifts every state alike; as in CCS, removing that shift leaves what
        differs between items for the heads to read."""
        if own and len(f) >= 32:
            return ((f - f.mean(0)) / (f.std(0) + 1e-6)).astype(np.float32)
        return ((f - self.mean) / self.scale).astype(np.float32)

    def zero_shot_logits(self, split: Split = "test") -> np.ndarray:
        """The prompted student's logit of label 1 on a split's items. Both splits are
        answered in one pass the first time either is asked for (one server start)."""
        if not hasattr(self, "_zero_shot"):
            self.features_student.close()  # never two copies of the model at once
            n = len(self.train_items)
            p = zero_shot(self.student, self.train_items + self.test_items, self.dataset,
                          self.cache, self.say, self.track)
            p = np.clip(p, 1e-7, 1 - 1e-7)
            logits = np.log(p) - np.log1p(-p)
            self._zero_shot = {"train": logits[:n], "test": logits[n:]}
        return self._zero_shot[split]

    def _reads(self, heads: ProbeHeads, split: Split) -> np.ndarray | None:
        """The zero-shot logits where the heads read them (the zero-gold head), else None."""
        return self.zero_shot_logits(split) if heads.reads_zero_shot else None

    def fit(self, rows: np.ndarray, targets: np.ndarray, gold: np.ndarray, cfg: TrainConfig,
            version: str, contrasts: Sequence[Contrasted] = ()) -> dict:
        """Train and save both heads; returns what was chosen on the way (the Cs)."""
        from .probe import ProbeHeads

        f = self.feats["train"]
        reads = cfg.method == "mistake-model" and cfg.zero_gold.method != "weak"
        heads = ProbeHeads(f["true"].shape[1]).fit(
            f["weak"][rows], f["true"][rows], targets, gold, cfg,
            self._consistency(rows, cfg, contrasts),
            groups=self.groups[rows], regions=self.regions["train"][rows],
            n_regions=len(self.region_names),
            zero_shot=self.zero_shot_logits("train")[rows] if reads else None)
        self.models.mkdir(parents=True, exist_ok=True)
        tmp = self._path(version).with_suffix(".partial.npz")
        heads.save(tmp)
        tmp.rename(self._path(version))
        return heads.chosen

    def _heads(self, version: str | None) -> ProbeHeads:
        """version None: untrained heads (P = 0.5 everywhere); the prompted student's
        answers come from zero_shot_logits."""
        from .probe import ProbeHeads

        if version is None:
            return ProbeHeads(self.feats["train"]["true"].shape[1])
        return ProbeHeads.load(self._path(version))

    def predict(self, version: str | None, split: Split) -> tuple[np.ndarray, np.ndarray]:
        """(weak head, truth head) P(label 1)."""
        f, heads = self.feats[split], self._heads(version)
        return heads.predict(f["weak"], f["true"], self.regions[split], self._reads(heads, split))

    def truth_sd(self, version: str | None, split: Split) -> np.ndarray | None:
        """Posterior sd of the truth logit where the truth head has one (mistake model)."""
        if version is None:
            return None
        f, heads = self.feats[split], self._heads(version)
        return heads.truth_sd(f["weak"], f["true"], self.regions[split],
                              self._reads(heads, split))

    def supervisor_accuracy(self, version: str | None, split: Split, rows: np.ndarray,
                            said: np.ndarray) -> dict[str, tuple[float, float, float]]:
        """The mistake model's estimate of the supervisor's accuracy per category on these
        rows, whose weak labels are `said`: {category: (estimate, low, high)}."""
        if version is None:
            return {}
        f, heads = self.feats[split], self._heads(version)
        reads = self._reads(heads, split)
        est = heads.supervisor_accuracy(f["weak"][rows], f["true"][rows],
                                        self.regions[split][rows], said,
                                        None if reads is None else reads[rows])
        names = [*self.region_names, OTHER]
        return {names[r]: v for r, v in est.items()}

    def source_accuracy(self, version: str | None) -> dict[str, dict[str, tuple]]:
        """Region -> source -> (mean, lo, hi): the zero-gold label model's estimate of
        each label-free source's accuracy (nothing for other methods)."""
        if version is None:
            return {}
        names = [*self.region_names, OTHER]
        return {names[r]: v for r, v in self._heads(version).source_accuracy().items()}

    def _consistency(self, rows: np.ndarray, cfg: TrainConfig,
                     contrasts: Sequence[Contrasted] = ()) -> ConsistencyData | None:
        """What the consistency terms and the mistake model read besides the items."""
        at = {int(k): j for j, k in enumerate(rows)}
        contrasts = [c for c in contrasts if c.row in at]
        if not cfg.consistency and not contrasts:
            return None
        from .consistency import ConsistencyData

        items = [self.train_items[k] for k in rows]
        names = {i.group_id for i in items if i.group_id}
        index = {g: k for k, g in enumerate(sorted(names))}
        groups = np.array([index.get(i.group_id, -1) for i in items])
        negated = None
        if "negation" in cfg.consistency:
            from ..student.variants import NEGATED
            negated = self._standardize(prompt_features(self.features_student, [
                NEGATED.prompt(self.prompter, i, self.dataset) for i in items],
                self.cache, self.say, self.track, keep_open=True), own=True)
        data = ConsistencyData(groups, negated)
        if contrasts:
            data.edit_rows = np.array([at[c.row] for c in contrasts])
            data.edit_flips = np.array([c.flips for c in contrasts])
            data.edits = self._standardize(prompt_features(
                self.features_student, self.features_student.feature_prompts(
                    [c.edit for c in contrasts], self.dataset), self.cache, self.say,
                self.track, keep_open=True))
        return data

    def predict_prompts(self, version: str | None, prompts: list[str],
                        items: Sequence[Item]) -> np.ndarray:
        """The truth head applied to other prompts of these items (check variants):
        P(label 1)."""
        f = self._standardize(prompt_features(self.features_student, prompts, self.cache,
                                              self.say, self.track, keep_open=True), own=True)
        return self._heads(version).predict(f, f, self.regions_of(items))[1]

    def features(self, split: Split) -> np.ndarray:
        return self.feats[split]["true"]

    def _path(self, version: str) -> Path:
        return self.models / f"{versions.file_name(version)}.npz"

    def release(self) -> None:
        self.features_student.close()

    def close(self) -> None:
        self.features_student.close()
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
        self.prompter = self.student.prompter
        if student_config.engine == "vllm" and student_config.url is None:
            say("starting the student's vLLM server")
        self.student.open()
        self.base = self.student.name

    def zero_shot_logits(self, split: Split = "test") -> np.ndarray:
        _, p = self.predict(None, split)
        return np.log(p) - np.log1p(-p)

    def fit(self, rows, targets, gold, cfg: TrainConfig, version: str,
            contrasts: Sequence[Contrasted] = ()) -> dict:
        """LoRA trains on the items alone (contrast pairs are a probe-mode feature)."""
        from .lora import train_lora

        items = [self.items["train"][k] for k in rows]
        self.say(f"LoRA {version}: {len(items)} items x 2 heads")
        train_lora(self.student.model_dir,
                   self.student.prompts(items, self.dataset, [Head.weak]),
                   self.student.prompts(items, self.dataset, [Head.true]),
                   targets, gold, self.student.prompter.label_ids, cfg, self._path(version))
        return {}

    def predict(self, version: str | None, split: Split) -> tuple[np.ndarray, np.ndarray]:
        self._activate(version)
        probs = self.student.predict(self.items[split], self.dataset)
        return probs[Head.weak], probs[Head.true]

    def _activate(self, version: str | None) -> None:
        """Point the engine at the adapter of version (None: the base model)."""
        name = self.base if version is None else versions.file_name(version)
        if version is not None and self.student.config.engine == "hf":
            if name in self.loaded:
                self.student.engine.model.set_adapter(name)
            else:
                self.student.engine.use_adapter(self._path(version), name)
        elif version is not None and name not in self.loaded:
            from .lora import load_adapter
            load_adapter(self.student.engine.url, name, self._path(version))
        self.loaded.add(name)
        self.student.use_model(name)

    def truth_sd(self, version: str | None, split: Split) -> None:
        return None

    def supervisor_accuracy(self, version, split, rows, said) -> dict:
        return {}

    def source_accuracy(self, version: str | None) -> dict:
        return {}

    def features(self, split: Split) -> None:
        return None  # LoRA trains the whole model: no fixed features

    def predict_prompts(self, version: str | None, prompts: list[str],
                        items: Sequence[Item]) -> np.ndarray:
        self._activate(version)
        logprobs = collect(self.student.engine.label_logprobs(prompts, self.student.prompter.label_ids),
                           len(prompts), 2)
        return np.exp(logprobs[:, 1])

    def _path(self, version: str) -> Path:
        return self.models / versions.file_name(version)

    def release(self) -> None:
        pass  # one server, the student's own: it also generates

    def close(self) -> None:
        self.student.close()


def make_trainer(cfg: TrainConfig, student: StudentConfig, dataset: Dataset, train: list[Item],
                 test: list[Item], models: Path, workspace: Path,
                 say: Callable[[str], None] = lambda _: None,
                 track: Track = no_track) -> Trainer:
    if cfg.mode == "lora":
        return LoraTrainer(student, dataset, train, test, models, workspace, cfg.lora_rank, say)
    return ProbeTrainer(student, dataset, train, test, models, workspace, say, track)


def _cached(cache: Path, key: str, compute: Callable[[], np.ndarray]) -> np.ndarray:
    path = cache / f"{key}.npz"
    if path.exists():
        with np.load(path) as data:
            return data["values"]
    values = compute()
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.npz")
    np.savez(tmp, values=values)
    tmp.rename(path)
    return values


def prompt_features(student: Student, prompts: list[str], cache: Path,
                    say: Callable[[str], None], track: Track = no_track,
                    keep_open: bool = False) -> np.ndarray:
    """Last-token hidden states of prompts, cached by model and prompts (rerunning with
    other losses, seeds or budgets costs no model time)."""
    def compute() -> np.ndarray:
        engine = "vLLM pooling server" if student.config.engine == "vllm" else "transformers"
        say(f"student features for {len(prompts)} prompts ({engine}, {student.name})")
        opened = student.engine is None
        if opened:
            student.open()
        try:
            return student.engine.features(
                prompts, advance=track("student features", len(prompts)))
        finally:
            if opened and not keep_open:  # keep_open: the caller closes it; later sets skip a start
                student.close()

    return _cached(cache, stable_id("features", *_version(student), *prompts), compute)


def zero_shot(student: Student, items: Sequence[Item], dataset: Dataset, cache: Path,
              say: Callable[[str], None], track: Track = no_track) -> np.ndarray:
    """The prompted full model's P(label 1) under the truth-head prompt, cached."""
    prompts = student.prompts(items, dataset, [Head.true])

    def compute() -> np.ndarray:
        say(f"zero-shot answers of {student.name} for {len(items)} items")
        with student:
            advance = track("zero-shot answers", len(items))
            return student.predict(items, dataset, [Head.true],
                                   on_batch=lambda b: advance(len(b)))[Head.true]

    return _cached(cache, stable_id("zero-shot", *_version(student), *prompts), compute)


def _version(student: Student) -> list[str]:
    """What names a student's numbers in the caches: the model, and its dtype if set."""
    dtype = student.config.serve.dtype
    return [student.model_version] + ([] if dtype == "auto" else [dtype])
