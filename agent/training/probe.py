"""Probe heads on frozen student features: two linear heads (the weak-label head and
the truth head) on one standardized feature vector per item, trained jointly from
zero with an L2 penalty."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from .config import TrainConfig
from .consistency import CONSISTENCY, ConsistencyData
from .losses import LOSSES, gold_xent


@contextmanager
def _one_thread():
    """Probe heads are small; one thread makes every float reduction happen in the
    same order in every process, so a resumed campaign retrains bit for bit."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _two_class(z: torch.Tensor) -> torch.Tensor:
    return torch.stack([torch.zeros_like(z), z], dim=1)


class ProbeHeads:
    """Weak head and truth head, trained jointly."""

    def __init__(self, dim: int):
        self.v = {h: torch.zeros(dim) for h in ("weak", "true")}
        self.b = {h: torch.zeros(()) for h in ("weak", "true")}

    def logits(self, head: str, feats: np.ndarray | torch.Tensor) -> torch.Tensor:
        h = torch.as_tensor(feats, dtype=torch.float32)
        return h @ self.v[head] + self.b[head]

    def fit(self, feats_weak: np.ndarray, feats_true: np.ndarray, weak: np.ndarray,
            gold: np.ndarray, config: TrainConfig,
            consistency: ConsistencyData | None = None) -> "ProbeHeads":
        """weak: P(label 1) per item from the supervisor; gold: 1/0 bought labels, -1 none;
        consistency: what the config's consistency terms need, per row."""
        with _one_thread():
            return self._fit(feats_weak, feats_true, weak, gold, config, consistency)

    def _fit(self, feats_weak, feats_true, weak, gold, config: TrainConfig,
             consistency: ConsistencyData | None) -> "ProbeHeads":
        gen = torch.Generator().manual_seed(config.seed)
        fw, ft = (torch.as_tensor(f, dtype=torch.float32) for f in (feats_weak, feats_true))
        w = torch.as_tensor(weak, dtype=torch.float32)
        g = torch.as_tensor(gold)
        params = [self.v["weak"], self.b["weak"], self.v["true"], self.b["true"]]
        for p in params:
            p.requires_grad_(True)
        opt = torch.optim.Adam(params, lr=config.probe_lr)
        loss_fn = LOSSES[config.loss]
        n = len(w)
        steps_per_epoch = max(1, -(-n // config.batch_size))
        total = config.probe_epochs * steps_per_epoch
        # decay to zero: the last epochs settle instead of bouncing between minibatches
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: max(0.0, 1 - s / total))
        step = 0
        for _ in range(config.probe_epochs):
            order = torch.randperm(n, generator=gen)
            for start in range(0, n, config.batch_size):
                idx = order[start:start + config.batch_size]
                if len(idx) < 2:
                    continue
                zt = _two_class(self.logits("true", ft[idx]))
                zw = _two_class(self.logits("weak", fw[idx]))
                loss = F.cross_entropy(zw, torch.stack([1 - w[idx], w[idx]], 1))
                loss = loss + loss_fn(zt, w[idx], step / total, config.losses)
                has_gold = g[idx] >= 0
                if has_gold.any() and config.gold_weight > 0:
                    # per item: a bought label weighs gold_weight weak labels (a batch mean
                    # over one or two gold items would make each outweigh the whole batch)
                    loss = loss + config.gold_weight * gold_xent(
                        zt[has_gold], g[idx][has_gold]) * has_gold.sum() / len(idx)
                if config.consistency:  # over every row: groups span minibatches
                    p_all = torch.sigmoid(self.logits("true", ft))
                    p_neg = (None if consistency.negated is None else
                             torch.sigmoid(self.logits("true", consistency.negated)))
                    loss = loss + config.consistency_weight * sum(
                        CONSISTENCY[name](p_all, p_neg, consistency)
                        for name in config.consistency)
                loss = loss + config.probe_l2 * (self.v["weak"].square().sum()
                                                 + self.v["true"].square().sum())
                opt.zero_grad()
                loss.backward()
                opt.step()
                sched.step()
                step += 1
        for p in params:
            p.requires_grad_(False)
        return self

    def predict(self, feats_weak: np.ndarray, feats_true: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """P(label 1) of the weak head and of the truth head."""
        with torch.no_grad(), _one_thread():
            return (torch.sigmoid(self.logits("weak", feats_weak)).numpy(),
                    torch.sigmoid(self.logits("true", feats_true)).numpy())

    def save(self, path: str | Path) -> None:
        np.savez(path, **{f"v_{h}": self.v[h].numpy() for h in self.v},
                 **{f"b_{h}": self.b[h].numpy() for h in self.b})

    @classmethod
    def load(cls, path: str | Path) -> "ProbeHeads":
        data = np.load(path)
        if "direction" in data:
            raise ValueError(f"{path}: probe heads of an older w2s (anchored at the prompted "
                             "prior, on other features); start a new campaign")
        heads = cls(len(data["v_true"]))
        for h in ("weak", "true"):
            heads.v[h] = torch.tensor(data[f"v_{h}"])
            heads.b[h] = torch.tensor(data[f"b_{h}"])
        return heads
