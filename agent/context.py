"""What the campaign's nodes work with: the log, the config, the items, the
student's trainer and the oracles. Built once per process (run or resume); the
heavy parts (student features, weak-model training) only when first needed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from w2s.oracles import Answer, Oracle, OracleContext, make_oracle
from w2s.oracles import kind as oracle_kind
from w2s.store import Dataset, Item, Store, queries

from .config import CampaignConfig, CampaignOracle
from .items import split_by_group
from .student.engines import Track, no_track
from .contrast.write import as_item
from .training.trainers import Contrasted, Trainer, make_trainer

MISTAKES = "mistake-model"  # metric scope: the student's estimates of its supervisor
SOURCES = "zero-gold"  # metric scope: the zero-gold label model's estimates of each source


@dataclass
class Context:
    campaign_id: str
    config: CampaignConfig
    store: Store
    workspace: Path
    say: Callable[[str], None] = lambda _: None
    report: Callable[[int, dict], None] = lambda *_: None
    track: Track = no_track
    _oracles: dict[int, Oracle] = field(default_factory=dict)
    _predictions: dict[tuple, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    def __post_init__(self):
        c = self.config
        self.dataset: Dataset = self.store.dataset(c.dataset)
        self.train_items, self.test = c.select(self.store)
        if any(oracle_kind(o.name).fits_on_gold for o in c.oracles):  # half A trains it
            weak_rows, self.pool_rows = split_by_group(self.train_items, c.seed)
        else:
            weak_rows, self.pool_rows = np.array([], dtype=int), np.arange(len(self.train_items))
        self.weak_training = [self.train_items[k] for k in weak_rows]
        self.pool = [self.train_items[k] for k in self.pool_rows]
        self.row_of = {i.id: k for k, i in enumerate(self.train_items)}

    @cached_property
    def trainer(self) -> Trainer:
        return make_trainer(self.config.train, self.config.student, self.dataset,
                            self.train_items, self.test,
                            self.workspace / "models" / self.campaign_id, self.workspace,
                            self.say, self.track)

    def predict(self, version: str | None, split: str) -> tuple[np.ndarray, np.ndarray]:
        """Both heads of a model version on a split, computed once: evaluate, the next
        round's predict and the checks all need the pool's (a full vLLM pass in LoRA mode)."""
        key = (version, split)
        if key not in self._predictions:
            self._predictions = {k: v for k, v in self._predictions.items() if k[0] == version}
            self._predictions[key] = self.trainer.predict(version, split)
        return self._predictions[key]

    def oracle(self, spec: CampaignOracle) -> Oracle:
        key = self.config.oracles.index(spec)
        if key not in self._oracles:
            self._oracles[key] = make_oracle(spec, OracleContext(
                self.store, self.dataset, self.campaign_id, self.workspace, self.config.seed,
                weak_training=self.weak_training, predictions=self.latest_prediction))
        return self._oracles[key]

    def latest_prediction(self, item_id: str) -> tuple[float, float] | None:
        rows = queries.latest_prediction(self.store, self.campaign_id, item_id)
        return (rows["weak"], rows["true"]) if len(rows) == 2 else None

    def labels(self, role: str) -> dict[str, Answer]:
        """Every label of the campaign from oracles in this role, by item id."""
        rows = queries.campaign_labels(self.store, self.campaign_id, weak=role == "weak")
        return {i: Answer(v, c) for i, v, c in rows}

    def contrasts(self) -> list[Contrasted]:
        """The valid edits the student wrote of this campaign's training items."""
        found = queries.contrasts(self.store, self.campaign_id, valid=True)
        return [Contrasted(self.row_of[c.parent_id],
                           as_item(c, self.train_items[self.row_of[c.parent_id]]), c.flips)
                for c in found if c.parent_id in self.row_of]

    def spent(self, oracle: str, before_round: int) -> int:
        """Gold labels this oracle gave in earlier rounds."""
        return queries.gold_spent(self.store, self.campaign_id, oracle, before_round)

    def cost(self) -> float:
        """What the campaign's labels cost (the weak model's own training set aside)."""
        return queries.cost(self.store, self.campaign_id)

    def pool_features(self) -> np.ndarray | None:
        features = self.trainer.features("train")
        return None if features is None else features[self.pool_rows]

    def truth_sd(self, version: str | None) -> np.ndarray | None:
        """Posterior sd of the truth logit on the pool (mistake model), else None."""
        sd = self.trainer.truth_sd(version, "train")
        return None if sd is None else sd[self.pool_rows]

    def check_scores(self, round: int) -> dict[str, np.ndarray]:
        """Each check's latest violation score per pool item (NaN where unchecked)."""
        rows = queries.check_scores(self.store, self.campaign_id, round)
        index = {i.id: k for k, i in enumerate(self.pool)}
        out: dict[str, np.ndarray] = {}
        for name, item, score in rows:
            if item in index:
                out.setdefault(name, np.full(len(self.pool), np.nan))[index[item]] = score
        return out

    def truth(self, version: str | None, variant, items: list[Item]) -> np.ndarray:
        """The truth head's P(label 1) on training items, asked as the head reads them
        or as a variant of the question (a Variant)."""
        if variant is None:
            return self.predict(version, "train")[1][[self.row_of[i.id] for i in items]]
        prompts = [variant.prompt(self.trainer.prompter, i, self.dataset) for i in items]
        return self.trainer.predict_prompts(version, prompts, items)

    @cached_property
    def generator(self):
        """The student in-process, for checks that write text (loaded once)."""
        from .student import HFEngine
        return HFEngine(self.trainer.student.model_dir)

    def judge_context(self) -> OracleContext:
        return OracleContext(self.store, self.dataset, self.campaign_id, self.workspace)

    def close(self) -> None:
        if "trainer" in self.__dict__:
            self.trainer.close()
