"""The weak-to-strong experiment of Burns et al. 2023, on one dataset and N seeds.

Per seed, the training items are split in two halves. The weak supervisor is
trained on gold labels of half A (bought from the ground-truth oracle) and labels
half B; the student sees only those weak labels. The strong ceiling is the same
student trained on gold labels of half B, also bought from the oracle. Every
label, prediction, training run and metric lands in the workspace's log.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from w2s.oracles import GroundTruthOracle, ask
from w2s.oracles.weak import WeakModelOracle, make_weak_model, weak_text
from w2s.store import (Campaign, Item, Metric, Prediction, Store, TrainingRound,
                       stable_id)
from w2s.store.datasets.base import unit_hash

from .evaluate import correct, pgr_ci
from .student import HEADS, Head, Student, StudentConfig
from .training import LOSSES, TrainConfig
from .training.lora import load_adapter, train_lora
from .training.probe import ProbeHeads, label_direction

WEAK, CEILING, ZERO_SHOT = "weak", "ceiling", "zero-shot"


class ExperimentConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset: str
    weak: str = "tfidf"  # tfidf | minilm | hf:PATH
    seeds: list[int] = Field(default=[0, 1, 2], min_length=1)
    n_train: int | None = Field(default=1200, ge=4)  # split into the weak and student halves
    n_test: int | None = Field(default=1000, ge=2)
    train_split: str = "train"
    test_split: str = "test"
    categories: list[str] | None = None
    max_text_chars: int | None = Field(default=None, ge=1)  # skip longer items (CPU budgets)
    losses: list[str] = ["xent", "logconf"]
    n_boot: int = Field(default=1000, ge=10)
    train: TrainConfig = TrainConfig()
    student: StudentConfig = StudentConfig()

    @field_validator("losses")
    @classmethod
    def _known(cls, names: list[str]) -> list[str]:
        unknown = [n for n in names if n not in LOSSES]
        if unknown:
            raise ValueError(f"unknown loss {unknown[0]!r}; known: {', '.join(LOSSES)}")
        return names


@dataclass
class Result:
    experiment_id: str
    n_train: int
    n_test: int
    accuracy: dict[str, float] = field(default_factory=dict)  # seed-averaged
    pgr: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # point, lo, hi
    seconds: float = 0.0


def _sample(items: list[Item], n: int | None, salt: str) -> list[Item]:
    if n is None or len(items) <= n:
        return items
    return sorted(items, key=lambda i: unit_hash(salt, i.id))[:n]


def _select(store: Store, config: ExperimentConfig, split: str, n: int | None) -> list[Item]:
    items = store.items(config.dataset, split=split)
    if config.categories:
        items = [i for i in items if i.category in config.categories]
    if config.max_text_chars:
        items = [i for i in items if len(i.text) <= config.max_text_chars]
    return _sample(items, n, f"experiment:{split}")


def run_experiment(store: Store, config: ExperimentConfig, workspace: str | Path,
                   say: Callable[[str], None] = lambda _: None) -> Result:
    started = time.monotonic()
    dataset = store.dataset(config.dataset)
    train, test = (_select(store, config, config.train_split, config.n_train),
                   _select(store, config, config.test_split, config.n_test))
    if len(train) < 4 or len(test) < 2:
        raise ValueError(f"{config.dataset}: {len(train)} train and {len(test)} test items "
                         "selected; need at least 4 and 2")
    exp_id = f"exp-{config.dataset}-{stable_id(config.model_dump_json(), datetime.now())[:8]}"
    store.write([Campaign(id=exp_id, dataset=config.dataset,
                          config=config.model_dump(mode="json"), status="running")])
    say(f"{exp_id}: {len(train)} train items (two halves), {len(test)} test items, "
        f"seeds {config.seeds}")

    gt = GroundTruthOracle(store)
    hits: dict[str, list[np.ndarray]] = {}
    ntr = len(train)
    trainer = None
    try:
        trainer = (LoraTrainer if config.train.mode == "lora" else ProbeTrainer)(
            config, dataset, train, test, Path(workspace), exp_id, say)
        for seed in config.seeds:
            say(f"seed {seed}")
            order = np.random.default_rng(seed).permutation(ntr)
            half_a, half_b = order[: ntr // 2], order[ntr // 2:]
            items_a, items_b = [train[k] for k in half_a], [train[k] for k in half_b]

            gold_a = ask(store, gt, exp_id, seed, items_a, "weak-training")
            fit_on = [i for i in items_a if i.id in gold_a]
            weak_model = make_weak_model(config.weak).fit(
                [weak_text(i, dataset) for i in fit_on], [gold_a[i.id].value for i in fit_on],
                seed)
            weak_oracle = WeakModelOracle(weak_model, dataset)
            weak_b = ask(store, weak_oracle, exp_id, seed, items_b, "weak-labels")
            weak_test = ask(store, weak_oracle, exp_id, seed, test, "evaluation")
            gold_b = ask(store, gt, exp_id, seed, items_b, "ceiling")

            p_weak_b = np.array([weak_b[i.id].p1 for i in items_b])
            probs = {WEAK: np.array([weak_test[i.id].p1 for i in test])}
            # zero-shot: the prompted student, thresholded at the weak labels' prior (no gold)
            prior = trainer.zero_shot_logits()
            probs[ZERO_SHOT] = (prior > np.quantile(prior, 1 - p_weak_b.mean())).astype(float)

            runs = {CEILING: (np.array([gold_b[i.id].value for i in items_b], float), "xent")}
            runs.update({f"w2s-{loss}": (p_weak_b, loss) for loss in config.losses})
            for method, (targets, loss) in runs.items():
                t0 = datetime.now()
                cfg = config.train.model_copy(update={"loss": loss, "seed": seed})
                version = f"{config.train.mode}:{method}:seed{seed}"
                p_weak_head, probs[method] = trainer.fit_predict(half_b, targets, cfg, version)
                store.write([TrainingRound(
                    campaign_id=exp_id, round=seed, loss=loss,
                    n_weak=0 if method == CEILING else len(items_b),
                    n_gold=len(items_b) if method == CEILING else 0, model_version=version,
                    started_at=t0, details={"method": method, "mode": config.train.mode})])
                store.write([*_predictions(exp_id, seed, test, "true", probs[method], version),
                             *_predictions(exp_id, seed, test, "weak", p_weak_head, version)])
            for method, p in probs.items():
                hits.setdefault(method, []).append(correct(store, test, p))
                store.write([Metric(campaign_id=exp_id, round=seed, name=f"acc:{method}",
                                    scope="test", value=float(np.nanmean(hits[method][-1])))])
    except BaseException:
        store.sql("UPDATE campaigns SET status = 'failed' WHERE id = ?", [exp_id])
        raise
    finally:
        if trainer is not None:
            trainer.close()

    result = Result(exp_id, ntr, len(test))
    stacked = {m: np.stack(h) for m, h in hits.items()}
    for method, h in stacked.items():
        result.accuracy[method] = float(np.nanmean(h))
    keep = ~np.isnan(stacked[WEAK]).any(axis=0)
    for method in [ZERO_SHOT, *runs.keys() - {CEILING}]:
        result.pgr[method] = pgr_ci(stacked[WEAK][:, keep], stacked[method][:, keep],
                                    stacked[CEILING][:, keep], config.n_boot)
    summary = [Metric(campaign_id=exp_id, round=0, name=f"acc:{m}", scope="summary", value=v)
               for m, v in result.accuracy.items()]
    for m, (point, lo, hi) in result.pgr.items():
        summary += [Metric(campaign_id=exp_id, round=0, name=f"{k}:{m}", scope="summary",
                           value=v) for k, v in (("pgr", point), ("pgr_lo", lo), ("pgr_hi", hi))]
    result.seconds = time.monotonic() - started
    summary.append(Metric(campaign_id=exp_id, round=0, name="seconds", scope="summary",
                          value=result.seconds))
    store.write(summary)
    store.sql("UPDATE campaigns SET status = 'done' WHERE id = ?", [exp_id])
    return result


class ProbeTrainer:
    """Probe heads on frozen features from a vLLM pooling server (or transformers)."""

    def __init__(self, config, dataset, train, test, workspace, exp_id, say):
        student_config = config.student.model_copy(
            update={"serve": config.student.serve.model_copy(update={"runner": "pooling"})})
        student = Student(student_config, workspace)
        feats = _features(student, train + test, dataset, workspace / "cache" / "features", say)
        self.direction = label_direction(student.model_dir, student.prompter.label_ids)
        n = len(train)
        self.train = {h.value: f[:n] for h, f in feats.items()}
        self.test = {h.value: f[n:] for h, f in feats.items()}

    def zero_shot_logits(self) -> np.ndarray:
        return ProbeHeads(self.direction).prior_logits(self.test["true"])

    def fit_predict(self, rows, targets, cfg: TrainConfig, version: str):
        heads = ProbeHeads(self.direction).fit(self.train["weak"][rows], self.train["true"][rows],
                                               targets, -np.ones(len(rows), int), cfg)
        return heads.predict(self.test["weak"], self.test["true"])

    def close(self) -> None:
        pass


class LoraTrainer:
    """LoRA adapters trained in-process, each hot-loaded into one vLLM server that
    then makes the test predictions."""

    def __init__(self, config, dataset, train, test, workspace, exp_id, say):
        serve = config.student.serve.model_copy(
            update={"enable_lora": True, "max_lora_rank": config.train.lora_rank})
        self.student = Student(config.student.model_copy(update={"serve": serve}), workspace)
        self.dataset, self.train, self.test, self.say = dataset, train, test, say
        self.adapters = workspace / "adapters" / exp_id
        if config.student.engine == "vllm" and config.student.url is None:
            say("starting the student's vLLM server")
        self.student.open()
        try:
            probs = self.student.predict(test, dataset, heads=[Head.true])[Head.true]
        except BaseException:
            self.student.close()
            raise
        self._zero_shot = np.log(probs) - np.log1p(-probs)

    def zero_shot_logits(self) -> np.ndarray:
        return self._zero_shot

    def fit_predict(self, rows, targets, cfg: TrainConfig, version: str):
        items = [self.train[k] for k in rows]
        self.say(f"LoRA {version}: {len(items)} items x 2 heads")
        name = version.replace(":", "-")
        path = train_lora(self.student.model_dir,
                          self.student.prompts(items, self.dataset, [Head.weak]),
                          self.student.prompts(items, self.dataset, [Head.true]),
                          targets, -np.ones(len(items), int), self.student.prompter.label_ids,
                          cfg, self.adapters / name)
        if self.student.config.engine == "hf":
            self.student.engine.use_adapter(path, name)
        else:
            load_adapter(self.student.engine.url, name, path)
        self.student.use_model(name)
        probs = self.student.predict(self.test, self.dataset)
        return probs[Head.weak], probs[Head.true]

    def close(self) -> None:
        self.student.close()


def _features(student: Student, items: list[Item], dataset, cache: Path,
              say: Callable[[str], None]) -> dict:
    """Both heads' features, computed once per model and prompt set (kept in the
    workspace cache: rerunning with other losses or seeds costs no model time)."""
    prompts = student.prompts(items, dataset)
    path = cache / f"{stable_id(student.model_version, *prompts)}.npz"
    if path.exists():
        with np.load(path) as data:
            return {h: data[h.value] for h in HEADS}
    say(f"student features for {len(items)} items x 2 heads "
        f"({'vLLM pooling server' if student.config.engine == 'vllm' else 'transformers'})")
    with student:
        feats = student.features(items, dataset)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial.npz")
    np.savez(tmp, **{h.value: f for h, f in feats.items()})
    tmp.rename(path)
    return feats


def _predictions(exp_id: str, seed: int, items: Sequence[Item], head: str, probs: np.ndarray,
                 version: str) -> list[Prediction]:
    return [Prediction(campaign_id=exp_id, round=seed, item_id=i.id, head=head,
                       prob=float(np.clip(p, 0, 1)), model_version=version)
            for i, p in zip(items, probs)]

