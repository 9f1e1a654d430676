"""Probe heads on frozen student features: two linear heads (the weak-label head and
the truth head) on one standardized feature vector per item, each fit full-batch by
L-BFGS with an L2 penalty chosen by cross-validation.

The penalty is scikit-learn's: |v|^2 / (2 C n) on the mean loss, C from GRID_C. The
folds shuffle whole groups (items come out of the store sorted by category, so
unshuffled folds would hold out whole categories and pick the wrong C). The weak
head's C is chosen on weak labels; the truth head's on gold when there is enough of
it, else it takes the weak head's (the only labels there are).

The truth head comes from one of three methods (TrainConfig.method):
  mixed          the training objective on weak labels (naive, logconf, ...) plus gold
  gold-only      the bought gold alone
  mistake-model  the weak head corrected by a model of the supervisor's mistakes fit
                 on gold (see mistakes.py)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from .config import TrainConfig
from .consistency import CONSISTENCY, READS, ConsistencyData
from .losses import STATIONARY, objective, soft_xent
from .mistakes import MistakeModel, Pairs
from .zero_gold import SOURCES, LabelModel, ZeroGold, cut, fit_stacker

GRID_C = (1e-3, 3e-3, 1e-2, 3e-2, 0.1, 0.3, 1.0)
MIN_GOLD_CV = 10  # fewer gold labels than this (or < 2 of a class): no CV on gold


@contextmanager
def _one_thread():
    """Probe heads are small; one thread (torch's and the BLAS numpy calls) makes every
    float reduction happen in the same order in every process, so a resumed campaign
    retrains, and logs, bit for bit."""
    from threadpoolctl import threadpool_limits

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            yield
    finally:
        torch.set_num_threads(threads)


def group_folds(n: int, groups: np.ndarray | None, k: int, seed: int) -> np.ndarray:
    """Fold id per row: whole groups, shuffled, dealt round-robin."""
    groups = np.arange(n) if groups is None else np.asarray(groups)
    names = np.unique(groups)
    order = np.random.default_rng(seed).permutation(len(names))
    fold_of = dict(zip(names[order], np.arange(len(names)) % k))
    return np.array([fold_of[g] for g in groups])


Params = tuple[torch.Tensor, torch.Tensor]  # (v, b)


def _linear(dim: int, n: int, loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
            c: float, start: Params | None = None, max_iter: int = 300) -> Params:
    """argmin over (v, b) of loss(v, b) + |v|^2 / (2 C n)."""
    v = torch.zeros(dim, dtype=torch.float64) if start is None else start[0].clone()
    b = torch.zeros((), dtype=torch.float64) if start is None else start[1].clone()
    v.requires_grad_(True)
    b.requires_grad_(True)
    opt = torch.optim.LBFGS([v, b], lr=1, max_iter=max_iter, tolerance_grad=1e-5,
                            tolerance_change=1e-9, history_size=20,
                            line_search_fn="strong_wolfe")
    penalty = 1 / (2 * c * n)

    def closure():
        opt.zero_grad()
        total = loss(v, b) + penalty * v.square().sum()
        total.backward()
        return total

    opt.step(closure)
    return v.detach(), b.detach()


def _fit_xent(x: torch.Tensor, y: torch.Tensor, rows: np.ndarray, c: float,
              start: Params | None = None) -> Params:
    """Logistic regression of soft targets y on the given rows."""
    return _linear(x.shape[1], len(rows), lambda v, b: soft_xent(x[rows] @ v + b, y[rows]),
                   c, start)


def choose_c(fit: Callable[[np.ndarray, float, Params | None], Params],
             score: Callable[[np.ndarray, Params], float], folds: np.ndarray,
             rows: np.ndarray) -> float:
    """The C of GRID_C with the best held-out score (lower is better). fit(held, C,
    start) trains without the held-out rows, warm-started from the next stronger
    penalty's solution."""
    totals = np.zeros(len(GRID_C))
    for f in range(folds.max() + 1):
        held = rows[folds == f]
        start = None
        for j, c in enumerate(GRID_C):
            start = fit(held, c, start)
            totals[j] += score(held, start) * len(held)
    return GRID_C[int(np.argmin(totals))]


def _regions(regions: np.ndarray | None, n: int) -> np.ndarray:
    return -np.ones(n, int) if regions is None else np.asarray(regions)


def _log_loss(x: torch.Tensor, y: torch.Tensor) -> Callable[[np.ndarray, Params], float]:
    """Held-out log loss of soft targets y."""
    return lambda held, p: float(soft_xent(x[held] @ p[0] + p[1], y[held]))


def _content_key(*arrays) -> bytes:
    """A key for what depends on these arrays only (the per-process caches below)."""
    return hashlib.blake2b(b"".join(np.ascontiguousarray(a).tobytes() for a in arrays)).digest()


def _remember(cache: dict, key: bytes, value):
    if len(cache) > 8:
        cache.clear()
    cache[key] = value
    return value


_WEAK_HEADS: dict[bytes, tuple[float, torch.Tensor, torch.Tensor]] = {}


def _weak_head(x: torch.Tensor, w: torch.Tensor, folds: np.ndarray,
               fixed_c: float | None) -> tuple[float, torch.Tensor, torch.Tensor]:
    """The weak head and its C. It depends on the weak labels only, so the rounds of a
    campaign (which differ by their gold) share it: kept per process by content."""
    key = _content_key(x.numpy(), w.numpy(), folds, np.array([fixed_c or 0.0]))
    if key not in _WEAK_HEADS:
        rows = np.arange(len(w))
        c = fixed_c or choose_c(lambda held, c, s: _fit_xent(x, w, np.setdiff1d(rows, held), c, s),
                                _log_loss(x, w), folds, rows)
        _remember(_WEAK_HEADS, key, (c, *_fit_xent(x, w, rows, c)))
    return _WEAK_HEADS[key]


_ZERO_GOLD: dict[bytes, ZeroGold] = {}


def _zero_gold(xt: torch.Tensor, z: np.ndarray, w: np.ndarray, zero_shot: np.ndarray,
               config: TrainConfig, groups: np.ndarray | None, regions: np.ndarray,
               n_regions: int, c: float, weak_direction: torch.Tensor | None = None) -> ZeroGold:
    """The zero-gold head (zero_gold.py) from the weak labels, the zero-shot answers and
    the features. It reads no gold, so every round of a campaign shares it: kept per
    process by content."""
    zg = config.zero_gold
    key = _content_key(xt.numpy(), w, zero_shot, regions, np.array([c, config.seed, n_regions]),
                       np.frombuffer(zg.model_dump_json().encode(), np.uint8))
    if key in _ZERO_GOLD:
        return _ZERO_GOLD[key]
    threshold = cut(zero_shot, w)
    said, answered = w > 0.5, zero_shot > threshold
    agree = np.flatnonzero(said == answered)
    if zg.method == "weak" or len(agree) < 20 or said[agree].all() or not said[agree].any():
        return ZeroGold("weak")
    # the third view: a probe trained where supervisor and zero-shot agree, read out of
    # fold on those rows (in fold it would echo their votes back), on the features less
    # the weak head's direction (what the supervisor's labels are read from, a surface
    # cue among it), so that its mistakes are less the supervisor's
    labels = torch.as_tensor(said.astype(float))
    if weak_direction is not None and zg.orthogonal:
        u = weak_direction / (weak_direction.norm() + 1e-12)
        xt = xt - (xt @ u)[:, None] * u[None, :]
    v, b = _fit_xent(xt, labels, agree, c)
    probe = (xt @ v + b).numpy()
    folds = group_folds(len(agree), None if groups is None else np.asarray(groups)[agree],
                        5, config.seed)
    for f in range(5):
        held = agree[folds == f]
        fv, fb = _fit_xent(xt, labels, agree[folds != f], c, (v, b))
        probe[held] = (xt[held] @ fv + fb).numpy()
    if weak_direction is not None and zg.orthogonal:  # the same probe on raw features
        v = v - (v @ u) * u
    head = ZeroGold(zg.method, threshold, v.numpy(), float(b), n_regions=n_regions)
    if zg.method == "label-model":
        votes = np.stack([said, answered, probe > 0], 1).astype(float)
        model = LabelModel.with_intervals(votes, regions, n_regions, zg.strength, zg.iterations,
                                           seed=config.seed)
        head.accuracy = model.intervals()
        head.stack, (head.probe_weight,) = fit_stacker(
            np.stack([z, zero_shot - threshold], 1), probe[:, None],
            model.posterior(votes, regions, n_regions), regions, n_regions)
    return _remember(_ZERO_GOLD, key, head)


class ProbeHeads:
    """Weak head and truth head. `chosen` records each C and what it was chosen on."""

    def __init__(self, dim: int):
        self.v = {h: torch.zeros(dim, dtype=torch.float64) for h in ("weak", "true")}
        self.b = {h: torch.zeros((), dtype=torch.float64) for h in ("weak", "true")}
        self.method = "mixed"
        self.mistakes: MistakeModel | None = None
        self.zero_gold = ZeroGold("weak")  # what the mistake model corrects
        self.chosen: dict[str, float | str] = {}

    def fit(self, feats_weak: np.ndarray, feats_true: np.ndarray, weak: np.ndarray,
            gold: np.ndarray, config: TrainConfig,
            consistency: ConsistencyData | None = None, groups: np.ndarray | None = None,
            regions: np.ndarray | None = None, n_regions: int = 0,
            zero_shot: np.ndarray | None = None) -> "ProbeHeads":
        """weak: P(label 1) per row from the supervisor; gold: 1/0 bought labels, -1 none;
        consistency: what the config's consistency terms need, per row; groups: rows
        that must share a CV fold (option groups); regions: category index per row;
        zero_shot: the prompted student's logit of label 1 per row (the mistake model
        then corrects the zero-gold head, which reads it, rather than the weak head)."""
        with _one_thread():
            self.method = config.method
            xw, xt = (torch.as_tensor(f, dtype=torch.float64) for f in (feats_weak, feats_true))
            w = torch.as_tensor(weak, dtype=torch.float64)
            g = torch.as_tensor(np.asarray(gold), dtype=torch.float64)
            folds = group_folds(len(w), groups, 5, config.seed)
            c_weak, self.v["weak"], self.b["weak"] = _weak_head(xw, w, folds, config.probe_c)
            if config.probe_c is not None:
                c_true, on = config.probe_c, "fixed"
            else:
                c_true, on = self._c_true(xt, w, g, config, groups, c_weak)
            self.chosen = {"c_weak": c_weak, "c_true": c_true, "c_true_on": on}
            has = np.flatnonzero(g.numpy() >= 0)
            if config.method == "mistake-model":
                if zero_shot is not None:
                    self.zero_gold = _zero_gold(
                        xt, self._weak_logits(xw), w.numpy(), np.asarray(zero_shot, np.float64),
                        config, groups, _regions(regions, len(w)), n_regions, c_weak,
                        self.v["weak"] if xw.shape == xt.shape else None)
                self.chosen["zero_gold"] = self.zero_gold.method
                self._fit_mistakes(xw, xt, g, config, regions, n_regions, consistency,
                                   zero_shot)
            elif config.method == "gold-only":
                if len(has):
                    self.v["true"], self.b["true"] = _fit_xent(xt, g, has, c_true)
            else:
                self._fit_mixed(xt, w, g, config, c_true, consistency)
        return self

    def _c_true(self, xt, w, g, config: TrainConfig, groups, c_weak) -> tuple[float, str]:
        """The truth head's C: by CV on gold when there is enough, else the weak head's."""
        gold = g.numpy()
        has = np.flatnonzero(gold >= 0)
        counts = np.bincount(gold[has].astype(int), minlength=2)
        if config.method == "mistake-model" or len(has) < MIN_GOLD_CV or counts.min() < 2:
            return c_weak, "weak labels"
        folds = group_folds(len(has), None if groups is None else np.asarray(groups)[has],
                            int(min(5, counts.min())), config.seed)
        if config.method == "gold-only":
            return choose_c(lambda held, c, s: _fit_xent(xt, g, np.setdiff1d(has, held), c, s),
                            _log_loss(xt, g), folds, has), "gold"
        xent = config.model_copy(update={"loss": "xent"})  # CV with the stationary loss
        everything = np.arange(len(w))

        def fit_mixed(held, c, start):  # every row but the held-out gold ones
            keep = np.setdiff1d(everything, held)
            return _linear(xt.shape[1], len(keep), lambda v, b: objective(
                None, xt[keep] @ v + b, w[keep], g[keep], 0.0, xent), c, start)

        return choose_c(fit_mixed, _log_loss(xt, g), folds, has), "gold"

    def _fit_mixed(self, xt, w, g, config: TrainConfig, c: float,
                   consistency: ConsistencyData | None) -> None:
        """The training objective, full batch, in stages: a loss whose target moves
        with the student (logconf) gets its anchor refreshed at each stage."""
        other = {k: torch.as_tensor(getattr(consistency, k), dtype=torch.float64)
                 for k in ("negated", "edits")
                 if consistency is not None and getattr(consistency, k) is not None}
        stages = 1 if config.loss in STATIONARY else config.probe_stages
        params = None
        for stage in range(stages):
            # before any training the student's own view is its model of the supervisor
            anchor = (torch.logit(w.clamp(1e-4, 1 - 1e-4)) if params is None
                      else xt @ params[0] + params[1])

            def loss(v, b, anchor=anchor, frac=stage / stages):
                z = xt @ v + b
                total = objective(None, z, w, g, frac, config, anchor)
                if config.consistency:
                    p = {k: torch.sigmoid(f @ v + b) for k, f in other.items()}
                    total = total + config.consistency_weight * sum(
                        CONSISTENCY[name](torch.sigmoid(z), p.get(READS.get(name)), consistency)
                        for name in config.consistency)
                return total

            params = _linear(xt.shape[1], len(w), loss, c, params)
        self.v["true"], self.b["true"] = params

    def _fit_mistakes(self, xw, xt, g, config: TrainConfig, regions, n_regions: int,
                      consistency: ConsistencyData | None, zero_shot=None) -> None:
        gold = g.numpy()
        has = np.flatnonzero(gold >= 0)
        regions = _regions(regions, len(gold))
        x = xt.numpy()
        z = self._prior_logits(xw, x, regions, zero_shot)
        pairs = None
        if consistency is not None and consistency.edits is not None:
            at = consistency.edit_rows
            edits = np.asarray(consistency.edits, np.float64)
            # an edit has no zero-shot answer of its own: its zero-shot input sits at the cut
            pairs = Pairs(z[at], self._prior_logits(edits, edits, regions[at], None),
                          regions[at], x[at], edits, consistency.edit_flips)
        center = self.zero_gold.center() if self.zero_gold.method == "label-model" else None
        self.mistakes = MistakeModel.tuned(config.mistakes, n_regions, z[has], regions[has],
                                           x[has], gold[has], pairs, center)
        self.chosen.update(region_sd=self.mistakes.config.region_sd,
                           feature_sd=self.mistakes.config.feature_sd,
                           kept=self.mistakes.kept)

    def _prior_logits(self, feats_weak, feats_true, regions, zero_shot) -> np.ndarray:
        """The sources the mistake model weighs: the zero-gold head's logit (weak or
        agreement), or for the label model the weak head's logit and the zero-shot logit
        past its cut, which its prior weighs as the label model did (`ZeroGold.center`)
        and gold may weigh anew per region."""
        z = self._weak_logits(feats_weak)
        if self.zero_gold.method != "label-model":
            return self.zero_gold.logits(z, zero_shot, np.asarray(feats_true, np.float64),
                                         _regions(regions, len(feats_weak)))
        past = np.zeros(len(z)) if zero_shot is None else zero_shot - self.zero_gold.threshold
        return np.stack([z, past], 1)

    def truth_logits(self, feats_weak, feats_true, regions=None, zero_shot=None) -> np.ndarray:
        xt = torch.as_tensor(feats_true, dtype=torch.float64)
        if self.method == "mistake-model" and self.mistakes is not None:
            z = self._prior_logits(feats_weak, feats_true, regions, zero_shot)
            return self.mistakes.logits(z, _regions(regions, len(z)), xt.numpy())
        return (xt @ self.v["true"] + self.b["true"]).numpy()

    def _weak_logits(self, feats_weak) -> np.ndarray:
        return (torch.as_tensor(feats_weak, dtype=torch.float64) @ self.v["weak"]
                + self.b["weak"]).numpy()

    @property
    def reads_zero_shot(self) -> bool:
        """Whether predictions need the zero-shot answers (the label model's stacker)."""
        return self.method == "mistake-model" and self.zero_gold.method == "label-model"

    def source_accuracy(self) -> dict[int, dict[str, tuple[float, float, float]]]:
        """The label model's estimate of each label-free source's accuracy per region
        (index n_regions: items of no region), with intervals; {} without one."""
        acc = self.zero_gold.accuracy
        return {r: {s: tuple(float(v) for v in acc[r, k]) for k, s in enumerate(SOURCES)}
                for r in range(len(acc))}

    def supervisor_accuracy(self, feats_weak, feats_true, regions: np.ndarray,
                            said: np.ndarray, zero_shot=None) -> dict[int, tuple[float, float, float]]:
        """The mistake model's estimate of the supervisor's accuracy per region."""
        if self.mistakes is None:
            return {}
        with torch.no_grad(), _one_thread():
            return self.mistakes.supervisor_accuracy(
                self._prior_logits(feats_weak, feats_true, regions, zero_shot),
                np.asarray(regions), np.asarray(feats_true, np.float64), said)

    def truth_sd(self, feats_weak: np.ndarray, feats_true: np.ndarray,
                 regions: np.ndarray | None = None, zero_shot=None) -> np.ndarray | None:
        """Posterior sd of the truth logit (the mistake model's); None for other methods."""
        if self.mistakes is None:
            return None
        with torch.no_grad(), _one_thread():
            z = self._prior_logits(feats_weak, feats_true, regions, zero_shot)
            return self.mistakes.logit_sd(z, _regions(regions, len(z)),
                                          np.asarray(feats_true, np.float64))

    def predict(self, feats_weak: np.ndarray, feats_true: np.ndarray,
                regions: np.ndarray | None = None,
                zero_shot: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """P(label 1) of the weak head and of the truth head."""
        with torch.no_grad(), _one_thread():
            zw = self._weak_logits(feats_weak)
            zt = self.truth_logits(feats_weak, feats_true, regions, zero_shot)
            return tuple((1 / (1 + np.exp(-z))).astype(np.float32) for z in (zw, zt))

    def save(self, path: str | Path) -> None:
        extra = {} if self.mistakes is None else self.mistakes.state()
        extra.update(self.zero_gold.state())
        np.savez(path, **{f"v_{h}": self.v[h].numpy() for h in self.v},
                 **{f"b_{h}": self.b[h].numpy() for h in self.b},
                 method=np.array(self.method), **extra)

    @classmethod
    def load(cls, path: str | Path) -> "ProbeHeads":
        with np.load(path) as npz:
            data = {k: npz[k] for k in npz.files}
        if "direction" in data or "method" not in data:
            raise ValueError(f"{path}: probe heads of an older w2s (trained otherwise); "
                             "start a new campaign")
        heads = cls(len(data["v_true"]))
        for h in ("weak", "true"):
            heads.v[h] = torch.tensor(data[f"v_{h}"], dtype=torch.float64)
            heads.b[h] = torch.tensor(data[f"b_{h}"], dtype=torch.float64)
        heads.method = str(data["method"])
        if "mistake_mean" in data:
            heads.mistakes = MistakeModel.from_state(data)
        heads.zero_gold = ZeroGold.from_state(data)
        return heads
