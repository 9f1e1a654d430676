"""Where in the student the truth is most linearly readable: a logistic probe on the
last-token state of every layer, for the one short feature prompt, on a few tasks.
All layers come from one in-process (transformers) pass; the probe's C is chosen by
shuffled, stratified 5-fold CV on the training items; accuracy and AUC on test items
with 95% bootstrap intervals. Picks `StudentConfig.feature_depth`.

    python bench/feature_depth.py [--model NAME|PATH] [--tasks builtin,sciq] [--n-train 300]
        [--n-test 300] [--every 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import roc_auc_score

from w2s.agent.items import select_items
from w2s.agent.student import HFEngine, Prompter, resolve
from w2s.agent.student.models import DEFAULT_MODEL, n_layers
from w2s.oracles.weak import tuned_logistic
from w2s.store import Store, stable_id
from w2s.store.gold import read_gold
from w2s.store.datasets import generate

from w2s_experiments import ensure_dataset  # noqa: E402  (bench/ is the script's folder)


def probe(x_train, y_train, x_test, seed: int = 0) -> np.ndarray:
    grid = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    return tuned_logistic(x_train, y_train, seed, grid).predict_proba(x_test)[:, 1]


def boot(y, p, n=1000, seed=0) -> tuple[float, float, float, float, float, float]:
    rng = np.random.default_rng(seed)
    acc, auc = [], []
    for _ in range(n):
        k = rng.integers(0, len(y), len(y))
        if len(set(y[k])) == 2:
            acc.append(np.mean((p[k] > 0.5) == y[k]))
            auc.append(roc_auc_score(y[k], p[k]))
    return (np.mean((p > 0.5) == y), *np.percentile(acc, [2.5, 97.5]),
            roc_auc_score(y, p), *np.percentile(auc, [2.5, 97.5]))


def _cached(path: Path, compute) -> np.ndarray:
    if path.exists():
        return np.load(path)
    values = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, values)
    return values


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--tasks", default="builtin,sciq")
    ap.add_argument("--n-train", type=int, default=300)
    ap.add_argument("--n-test", type=int, default=300)
    ap.add_argument("--every", type=int, default=2, help="probe every k-th layer")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--cache", default="bench-workspace/cache/feature-depth")
    args = ap.parse_args()
    console = Console(width=160)
    model_dir = resolve(args.model)
    engine = HFEngine(model_dir, batch_size=8)
    prompter = Prompter(engine.tokenizer, chat=False)
    total = n_layers(model_dir)
    layers = sorted({*range(args.every, total + 1, args.every), total})
    results: dict[str, dict[int, tuple]] = {}
    with tempfile.TemporaryDirectory() as tmp, Store.in_workspace(tmp) as store:
        for task in args.tasks.split(","):
            if task == "builtin":
                loaded = generate()
                store.import_dataset(loaded.dataset, loaded.items, loaded.gold)
            else:
                ensure_dataset(store, task, args.data_dir)
            dataset = store.dataset(task)
            train = select_items(store, task, "train", args.n_train, None, 600)
            test = select_items(store, task, "test", args.n_test, None, 600)
            gold = read_gold(store, task)
            start = time.monotonic()
            prompts = [prompter.features(i, dataset) for i in train + test]
            key = stable_id(model_dir.name, *map(str, layers), *prompts)
            feats = _cached(Path(args.cache) / f"{task}-{key}.npy",
                            lambda: engine.features(prompts, layer=layers))
            console.log(f"{task}: {len(prompts)} prompts, {len(layers)} layers in "
                        f"{time.monotonic() - start:.0f} s")
            y = np.array([gold[i.id] for i in train + test])
            n = len(train)
            results[task] = {layer: boot(y[n:], probe(feats[:n, k], y[:n], feats[n:, k]))
                             for k, layer in enumerate(layers)}

    table = Table(title=f"{model_dir.name}: logistic probe per layer ({total} layers), "
                        f"{args.n_train} train / {args.n_test} test items per task, "
                        "95% bootstrap CI")
    table.add_column("layer (depth)")
    for task in results:
        table.add_column(f"{task} acc", justify="right")
        table.add_column(f"{task} AUC", justify="right")
    table.add_column("mean acc", justify="right")
    for layer in layers:
        cells = []
        for task in results:
            a, alo, ahi, u, ulo, uhi = results[task][layer]
            cells += [f"{a:.3f} [{alo:.2f},{ahi:.2f}]", f"{u:.3f} [{ulo:.2f},{uhi:.2f}]"]
        mean = np.mean([results[t][layer][0] for t in results])
        table.add_row(f"{layer} ({layer / total:.2f})", *cells, f"{mean:.3f}")
    console.print(table)


if __name__ == "__main__":
    main()
