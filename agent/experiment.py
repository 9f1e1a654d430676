"""The weak-to-strong experiment of Burns et al. 2023, on one dataset and N seeds.

Per seed, the training items are split in two halves. The weak supervisor is
trained on gold labels of half A (bought from the ground-truth oracle) and labels
half B; the student sees only those weak labels. The strong ceiling is the same
student trained on gold labels of half B, also bought from the oracle. Every
label, prediction, training run and metric lands in the workspace's log.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, field_validator

from w2s.oracles import GroundTruthOracle, OracleContext, OracleSpec, ask, make_oracle
from w2s.oracles import kind as oracle_kind
from w2s.store import (Campaign, Item, Metric, Prediction, Store, TrainingRound, queries,
                       stable_id, versions)
from w2s.store import Purpose

from .evaluate import correct, pgr_ci
from .items import Selection, split_by_group
from .student import StudentConfig
from .student.engines import Track, no_track
from .training import LOSSES, TrainConfig
from .training.mistakes import MistakeConfig
from .training.trainers import make_trainer

WEAK, CEILING = "weak", "ceiling"
# the student with every gold label of its half, reading what the truth head reads
# (features and zero-shot answers, through the zero-gold head); CEILING_FEATURES is
# the probe on features alone, the ceiling of w2s before it (reported beside it)
CEILING_FEATURES = "ceiling-features"
ZERO_GOLD = "w2s-zero-gold"  # the campaign's round 0: the zero-gold head, no gold
AGREEMENT = "w2s-agreement"  # a probe trained where supervisor and zero-shot agree
SAMPLING = "groups"  # how items and halves are drawn: whole groups (see context.sample)


class ExperimentConfig(Selection):
    model_config = ConfigDict(extra="forbid")
    weak: str = "tfidf"  # a weak model trained on half A (tfidf, minilm-ft, ...) or oracle:NAME
    weak_params: dict[str, Any] = {}  # parameters of an oracle:NAME supervisor
    seeds: list[int] = Field(default=[0, 1, 2], min_length=1)
    losses: list[str] = ["xent", "logconf"]
    n_boot: int = Field(default=1000, ge=10)
    # also the zero-gold head corrected by the mistake model with this share (%) of the
    # student's half as random gold, per share: "w2s-zero-gold+1%", ...
    gold_shares: list[float] = []
    sampling: Literal["groups"] = SAMPLING  # logged, so a reference is never a run drawn otherwise
    # Burns et al.'s runs: the truth head learns from its targets alone (method mixed)
    train: TrainConfig = TrainConfig(method="mixed")
    student: StudentConfig = StudentConfig()

    @field_validator("train", mode="before")
    @classmethod
    def _mixed_unless_said(cls, train: Any) -> Any:
        """A [train] section that names no method means an experiment's (mixed)."""
        if isinstance(train, dict) and "method" not in train:
            return {**train, "method": "mixed"}
        return train

    @field_validator("train")
    @classmethod
    def _mixed(cls, train: TrainConfig) -> TrainConfig:
        if train.method != "mixed":
            raise ValueError(f"method {train.method!r}: an experiment trains each method "
                             "from its targets alone (mixed); the mistake model is a "
                             "campaign's, for it needs bought gold")
        return train

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


def weak_spec(config: ExperimentConfig) -> OracleSpec:
    """oracle:NAME asks that oracle for the weak labels; any other name is a weak model
    trained on gold labels of half A."""
    if config.weak.startswith("oracle:"):
        return OracleSpec(name=config.weak.removeprefix("oracle:"), params=config.weak_params)
    return OracleSpec(name="weak-model", params={"model": config.weak, **config.weak_params})


def reference_config(campaign) -> ExperimentConfig | None:
    """The experiment that gives a campaign its weak floor and gold ceiling: its items,
    its seed, its weak supervisor, its student and training settings. None when the
    weak supervisor is a person (nobody labels a thousand test items for a reference)."""
    weak = next(o for o in campaign.oracles if o.role == "weak")
    if oracle_kind(weak.name).person:
        return None
    params = dict(weak.params)
    supervisor = params.pop("model", "tfidf") if weak.name == "weak-model" else f"oracle:{weak.name}"
    return ExperimentConfig(
        **campaign.selection().model_dump(), student=campaign.student, weak=supervisor,
        weak_params=params,
        seeds=[campaign.seed], losses=sorted({"xent", campaign.train.loss}),
        train=campaign.train.model_copy(update={"loss": "xent", "method": "mixed",
                                                "mistakes": MistakeConfig()}))


def _reference_key(c: ExperimentConfig) -> tuple:
    """What a logged run must share to stand for another: the items, the supervisor,
    the student and the training (its seeds and losses may be more, n_boot anything)."""
    return (c.selection(), c.weak, c.weak_params, c.sampling, c.student,
            c.train.model_dump(mode="json", exclude={"loss"}))


def find_reference(store: Store, config: ExperimentConfig) -> str | None:
    """The newest finished experiment run like `config` that covers its seeds and losses."""
    want = _reference_key(config)
    for exp_id, raw in queries.finished_experiments(store):
        if json.loads(raw).get("sampling") != SAMPLING:
            continue  # an older w2s drew other items and halves
        if "feature_depth" not in json.loads(raw).get("student", {}):
            continue  # an older w2s's probe: other features, anchored at the prompted prior
        if "zero_gold" not in json.loads(raw).get("train", {}):
            continue  # an older w2s's ceiling: it read no zero-shot answers
        try:
            logged = ExperimentConfig.model_validate_json(raw)
        except ValidationError:
            continue  # an older w2s's settings: its probe is not this one's
        if (_reference_key(logged) == want and set(config.seeds) <= set(logged.seeds)
                and set(config.losses) <= set(logged.losses)):
            return exp_id
    return None


def run_experiment(store: Store, config: ExperimentConfig, workspace: str | Path,
                   say: Callable[[str], None] = lambda _: None,
                   experiment_id: str | None = None, track: Track = no_track) -> Result:
    """Run (or, given the id of an unfinished run, finish) an experiment: every write
    skips rows already logged and oracles are not asked twice, so a rerun is safe."""
    started = time.monotonic()
    dataset = store.dataset(config.dataset)
    train, test = config.select(store)
    exp_id = experiment_id or \
        f"exp-{config.dataset}-{stable_id(config.model_dump_json(), datetime.now())[:8]}"
    store.write([Campaign(id=exp_id, dataset=config.dataset, kind="experiment",
                          config=config.model_dump(mode="json"), status="running")])
    queries.set_status(store, exp_id, "running")
    say(f"{exp_id}: {len(train)} train items (two halves), {len(test)} test items, "
        f"seeds {config.seeds}")

    gt = GroundTruthOracle(store)
    hits: dict[str, list[np.ndarray]] = {}
    ntr = len(train)
    trainer = None
    try:
        trainer = make_trainer(config.train, config.student, dataset, train, test,
                               Path(workspace) / "models" / exp_id, Path(workspace), say, track)
        for seed in config.seeds:
            say(f"seed {seed}")
            half_a, half_b = split_by_group(train, seed)
            items_a, items_b = [train[k] for k in half_a], [train[k] for k in half_b]

            weak_oracle = make_oracle(weak_spec(config), OracleContext(
                store, dataset, exp_id, Path(workspace), seed, weak_training=items_a))
            weak_b = ask(store, weak_oracle, exp_id, seed, items_b, Purpose.WEAK_LABELS)
            weak_test = ask(store, weak_oracle, exp_id, seed, test, Purpose.EVALUATION)
            gold_b = ask(store, gt, exp_id, seed, items_b, Purpose.CEILING)

            p_weak_b = np.array([weak_b[i.id].p1 for i in items_b])
            probs = {WEAK: np.array([weak_test[i.id].p1 for i in test])}
            # zero-shot: the prompted student, thresholded at the weak labels' prior (no gold)
            prior = trainer.zero_shot_logits()
            probs[versions.ZERO_SHOT] = (prior > np.quantile(prior, 1 - p_weak_b.mean())).astype(float)
            store.write(_predictions(exp_id, seed, test, "true", probs[versions.ZERO_SHOT],
                                     versions.zero_shot(seed)))

            gold_arr = np.array([gold_b[i.id].value for i in items_b], int)
            none = -np.ones(len(half_b), int)
            # method: (targets, loss, gold the truth head reads, how it is made)
            runs = {CEILING_FEATURES: (gold_arr.astype(float), "xent", none, "mixed")}
            if config.train.mode == "probe":
                runs[CEILING] = (p_weak_b, "xent", gold_arr, "mistake-model")
                runs[ZERO_GOLD] = (p_weak_b, "xent", none, "mistake-model")
                runs[AGREEMENT] = (p_weak_b, "xent", none, "mistake-model")
                rng = np.random.default_rng([seed, 21])
                order = rng.permutation(len(half_b))
                for share in config.gold_shares:
                    some = none.copy()
                    pick = order[:max(1, round(share / 100 * len(half_b)))]
                    some[pick] = gold_arr[pick]
                    runs[f"{ZERO_GOLD}+{share:g}%"] = (p_weak_b, "xent", some, "mistake-model")
            else:
                runs = {CEILING: runs[CEILING_FEATURES]}
            # Burns et al.'s runs: the truth head learns from the targets alone
            runs.update({f"w2s-{loss}": (p_weak_b, loss, none, "mixed") for loss in config.losses})
            for method, (targets, loss, gold, how) in runs.items():
                t0 = datetime.now()
                cfg = config.train.model_copy(update={"loss": loss, "seed": seed, "method": how})
                if method == AGREEMENT:
                    cfg = cfg.model_copy(update={"zero_gold": cfg.zero_gold.model_copy(
                        update={"method": "agreement"})})
                version = versions.of_experiment(config.train.mode, method, seed)
                chosen = trainer.fit(half_b, targets, gold, cfg, version)
                p_weak_head, probs[method] = trainer.predict(version, "test")
                n_gold = int((gold >= 0).sum()) or (len(items_b) if method == CEILING_FEATURES else 0)
                store.write([TrainingRound(
                    campaign_id=exp_id, round=seed, loss=loss,
                    n_weak=0 if method == CEILING_FEATURES else len(items_b),
                    n_gold=n_gold, model_version=version,
                    started_at=t0, details={"method": method, "mode": config.train.mode, **chosen})])
                store.write([*_predictions(exp_id, seed, test, "true", probs[method], version),
                             *_predictions(exp_id, seed, test, "weak", p_weak_head, version)])
            for method, p in probs.items():
                hits.setdefault(method, []).append(correct(store, test, p))
                store.write([Metric(campaign_id=exp_id, round=seed, name=f"acc:{method}",
                                    scope="test", value=float(np.nanmean(hits[method][-1])))])
    except BaseException:
        queries.set_status(store, exp_id, "failed")
        raise
    finally:
        if trainer is not None:
            trainer.close()

    result = Result(exp_id, ntr, len(test))
    stacked = {m: np.stack(h) for m, h in hits.items()}
    for method, h in stacked.items():
        result.accuracy[method] = float(np.nanmean(h))
    keep = ~np.isnan(stacked[WEAK]).any(axis=0)
    for method in [versions.ZERO_SHOT, *sorted(runs.keys() - {CEILING})]:
        result.pgr[method] = pgr_ci(stacked[WEAK][:, keep], stacked[method][:, keep],
                                    stacked[CEILING][:, keep], config.n_boot)
    summary = [Metric(campaign_id=exp_id, round=0, name=f"acc:{m}", scope="summary", value=v)
               for m, v in result.accuracy.items()]
    for m, (point, lo, hi) in result.pgr.items():  # undefined ones (NaN) are not logged
        summary += [Metric(campaign_id=exp_id, round=0, name=f"{k}:{m}", scope="summary",
                           value=v) for k, v in (("pgr", point), ("pgr_lo", lo), ("pgr_hi", hi))
                    if np.isfinite(v)]
    result.seconds = time.monotonic() - started
    summary.append(Metric(campaign_id=exp_id, round=0, name="seconds", scope="summary",
                          value=result.seconds))
    store.write(summary)
    queries.set_status(store, exp_id, "done")
    return result


def _predictions(exp_id: str, seed: int, items: Sequence[Item], head: str, probs: np.ndarray,
                 version: str) -> list[Prediction]:
    return [Prediction(campaign_id=exp_id, round=seed, item_id=i.id, head=head,
                       prob=float(np.clip(p, 0, 1)), model_version=version)
            for i, p in zip(items, probs)]

