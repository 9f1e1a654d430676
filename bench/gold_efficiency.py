"""Gold efficiency: accuracy and PGR per gold budget for each method and query
strategy, on shipped tasks and supervisors. One table, one PNG of the curves.

    python bench/gold_efficiency.py [--tasks builtin,amazon,sciq,ethics-justice]
        [--weak tfidf,noisy-category,probe:smollm2] [--seeds 5] [--budgets 0,1,2,5,10]
        [--methods naive,logconf,gold-only,mixed,stacking,mistake-model]
        [--strategies random,entropy,coverage-first,mistake-uncertainty]
        [--workspace bench-workspace] [--data-dir DIR] [--png gold_efficiency.png]

Per task and seed the training items split in two halves as in `w2s experiment`: the
supervisor learns from half A (or is simulated: `noisy-category` is right except on
the task's largest category, where it is always wrong) and labels half B, the pool,
and the test items. Each method then buys gold on the pool in batches of 1 % of it,
retraining the student's probe heads after each batch (the campaign's loop without
LangGraph: the same trainer, features cached in the workspace, shared with
bench/w2s_experiments.py). Budgets are shares of the pool; PGR is against this seed's
supervisor and gold ceiling; intervals are 95 % over seeds. Strategies are crossed
with the mistake model only; the other methods buy at random. `naive` and `logconf`
use no gold (Burns et al.'s runs), so their row is the same at every budget.
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from w2s.agent.context import select_items, split_by_group
from w2s.agent.evaluate import pgr, pgr_text
from w2s.agent.strategies import PoolView, make_strategy, pick
from w2s.agent.student import StudentConfig
from w2s.agent.student.models import DEFAULT_MODEL
from w2s.agent.training import TrainConfig
from w2s.agent.training.mistakes import MistakeConfig
from w2s.agent.training.trainers import make_trainer
from w2s.oracles import OracleContext, OracleSpec, ask, make_oracle
from w2s.store import Store
from w2s.store.gold import read_gold

from w2s_experiments import TASKS, ensure_dataset  # noqa: E402 (bench/ is the script's path)

METHODS = {
    "naive": TrainConfig(method="mixed", loss="xent"),
    "logconf": TrainConfig(method="mixed", loss="logconf"),
    "gold-only": TrainConfig(method="gold-only", loss="xent"),
    "mixed": TrainConfig(method="mixed", loss="xent"),
    # the mistake model by region alone: a_r z + b_r, no feature terms
    "stacking": TrainConfig(method="mistake-model", mistakes=MistakeConfig(
        region_sd=1.0, feature_sd=0.0, tune=False)),
    "mistake-model": TrainConfig(method="mistake-model"),
}
NO_GOLD = {"naive", "logconf"}


def supervisor(name: str, items) -> OracleSpec:
    if name == "noisy-category":
        cats, counts = np.unique([i.category for i in items], return_counts=True)
        return OracleSpec(name="noisy", params={"wrong_categories": [str(cats[counts.argmax()])],
                                                "name": "noisy-category"})
    return OracleSpec(name="weak-model", params={"model": name})


def run_setting(store, trainer, dataset, train, test, weak_name, seed, args):
    """Every curve of one task, supervisor and seed: {(method, strategy): {budget: acc}},
    plus the supervisor's and the ceiling's accuracy."""
    half_a, half_b = split_by_group(train, seed)
    pool = [train[k] for k in half_b]
    run_id = f"gold-efficiency-{dataset.name}"
    oracle = make_oracle(supervisor(weak_name, train), OracleContext(
        store, dataset, run_id, Path(args.workspace), seed,
        weak_training=[train[k] for k in half_a]))
    weak_pool = ask(store, oracle, run_id, seed, pool, "weak-labels")
    weak_test = ask(store, oracle, run_id, seed, test, "evaluation")
    gold = read_gold(store, item_ids=[i.id for i in pool + test])
    y_pool = np.array([gold[i.id] for i in pool])
    y_test = np.array([gold[i.id] for i in test])
    w = np.array([weak_pool[i.id].p1 for i in pool])
    acc = {"weak": float(np.mean((np.array([weak_test[i.id].p1 for i in test]) > 0.5) == y_test))}
    tag = f"{weak_name}:s{seed}"
    trainer.fit(half_b, y_pool.astype(float), -np.ones(len(pool), int),
                TrainConfig(method="mixed", loss="xent", seed=seed), f"{tag}:ceiling")
    acc["ceiling"] = float(np.mean((trainer.predict(f"{tag}:ceiling", "test")[1] > 0.5) == y_test))

    n_pool = len(pool)
    # keyed by the share asked for: pools differ a little by seed (halves keep groups)
    budgets = {b: round(b / 100 * n_pool) for b in args.budgets}
    step = max(1, round(n_pool / 100))
    features = trainer.feats["train"]["true"][half_b]
    categories = np.array([i.category for i in pool])
    curves = {}
    for method in args.methods:
        strategies = args.strategies if method == "mistake-model" else ["random"]
        for strategy in strategies:
            cfg = METHODS[method].model_copy(update={"seed": seed})
            has = np.zeros(n_pool, bool)
            curve = {}
            for k in itertools.count():
                bought = int(has.sum())
                gold_arr = np.where(has, y_pool, -1)
                version = f"{tag}:{method}:{strategy}:{bought}"
                trainer.fit(half_b, w, -np.ones(n_pool, int) if method in NO_GOLD else gold_arr,
                            cfg, version)
                p_weak, p_true = trainer.predict(version, "train")
                hit = float(np.mean((trainer.predict(version, "test")[1] > 0.5) == y_test))
                if method in NO_GOLD:  # Burns et al.'s runs: no gold, one accuracy
                    curve = dict.fromkeys(budgets, hit)
                    break
                curve.update({b: hit for b, n in budgets.items() if b not in curve and bought >= n})
                if len(curve) == len(budgets):
                    break
                sd = trainer.truth_sd(version, "train")
                view = PoolView(p_weak=p_weak[half_b], p_true=p_true[half_b], weak_labels=w,
                                categories=categories, features=features,
                                rng=np.random.default_rng([seed, k]), has_gold=has,
                                truth_sd=None if sd is None else sd[half_b])
                take = min(step, min(n for n in budgets.values() if n > bought) - bought)
                chosen = pick(make_strategy(strategy).score(view), np.flatnonzero(~has), take,
                              "none", categories, features)
                has[chosen] = True
            curves[method, strategy] = curve
    return curves, acc, list(budgets.values())


def interval(values: list[float]) -> tuple[float, float, float]:
    """Mean and a 95 % t-interval over seeds."""
    v = np.asarray(values, float)
    if len(v) < 2:
        return float(v.mean()), float("nan"), float("nan")
    from scipy.stats import t
    half = t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return float(v.mean()), float(v.mean() - half), float(v.mean() + half)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="builtin,amazon,sciq,ethics-justice")
    ap.add_argument("--weak", default="tfidf,noisy-category,probe:smollm2")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budgets", default="0,1,2,5,10")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--strategies", default="random,entropy,coverage-first,mistake-uncertainty")
    ap.add_argument("--n-train", type=int, default=1200)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--workspace", default="bench-workspace")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--png", default="gold_efficiency.png")
    args = ap.parse_args()
    args.budgets = [float(b) for b in args.budgets.split(",")]
    args.methods = args.methods.split(",")
    args.strategies = args.strategies.split(",")
    console = Console(width=220)
    results = {}  # (task, weak) -> list over seeds of (curves, acc, budgets)
    started = time.monotonic()
    with Store.in_workspace(args.workspace) as store:
        for task in args.tasks.split(","):
            name, categories, max_chars = TASKS[task]
            ensure_dataset(store, name, args.data_dir)
            dataset = store.dataset(name)
            train = select_items(store, name, "train", args.n_train, categories, max_chars)
            tested = select_items(store, name, "test", args.n_test, categories, max_chars)
            trainer = make_trainer(TrainConfig(), StudentConfig(model=args.model), dataset,
                                   train, tested, Path(args.workspace) / "models" / f"ge-{task}",
                                   Path(args.workspace), say=lambda m: console.log(f"[{task}] {m}"))
            try:
                for weak in args.weak.split(","):
                    for seed in range(args.seeds):
                        t0 = time.monotonic()
                        results.setdefault((task, weak), []).append(run_setting(
                            store, trainer, dataset, train, tested, weak, seed, args))
                        console.log(f"{task} / {weak} / seed {seed}: {time.monotonic() - t0:.0f} s")
            finally:
                trainer.close()
    console.print(table(results, args, time.monotonic() - started))
    plot(results, args.png)
    console.print(f"curves: {args.png}")


def table(results, args, seconds: float) -> Table:
    first = next(iter(results.values()))[0][2]  # seed 0's label counts, for the header
    t = Table(title=f"gold efficiency: truth-head accuracy and PGR [95% CI over {args.seeds} "
                    f"seeds] by gold budget (% of the pool, labels); {seconds:.0f} s")
    for col in ["task", "supervisor", "weak", "ceiling", "method", "strategy",
                *[f"{b:g}% ({n})" for b, n in zip(args.budgets, first)], "labels to random's final"]:
        t.add_column(col, justify="left" if col in ("task", "supervisor", "method", "strategy")
                     else "right")
    budgets = args.budgets
    for (task, weak), runs in results.items():
        w, c = (np.mean([a[k] for _, a, _ in runs]) for k in ("weak", "ceiling"))
        random_final = {m: np.mean([cv[m, "random"][budgets[-1]] for cv, _, _ in runs])
                        for m, s in runs[0][0] if s == "random"}
        for key in runs[0][0]:
            cells = []
            for b in budgets:
                accs = [cv[key][b] for cv, _, _ in runs]
                pgrs = [pgr(a["weak"], cv[key][b], a["ceiling"]) for cv, a, _ in runs]
                mean, _, _ = interval(accs)
                cells.append(f"{mean:.3f} {pgr_text(*interval(pgrs))}")
            means = [np.mean([cv[key][b] for cv, _, _ in runs]) for b in budgets]
            final = random_final.get(key[0])
            reach = None if final is None else next(
                (b for b, m in zip(budgets, means) if m >= final), None)
            t.add_row(task, weak, f"{w:.3f}", f"{c:.3f}", *key, *cells,
                      "–" if reach is None else f"{reach:g}% (random: {budgets[-1]:g}%)")
    return t


def plot(results, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    fig, axes = plt.subplots(1, n, figsize=(5 * n, 4), squeeze=False)
    for ax, ((task, weak), runs) in zip(axes[0], results.items()):
        budgets = list(runs[0][0][next(iter(runs[0][0]))])  # the shares asked for
        for key in runs[0][0]:
            accs = [[cv[key][b] for b in budgets] for cv, _, _ in runs]
            ax.plot(budgets, np.mean(accs, axis=0), marker="o", label=" / ".join(key))
        for name, style in (("weak", ":"), ("ceiling", "--")):
            ax.axhline(np.mean([a[name] for _, a, _ in runs]), color="grey", ls=style, lw=1)
        ax.set(title=f"{task}, {weak}", xlabel="gold labels (% of the pool)",
               ylabel="truth-head accuracy (dotted: supervisor, dashed: ceiling)")
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
