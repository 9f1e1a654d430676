"""Gold efficiency: accuracy and PGR per gold budget for each method and query
strategy, on shipped tasks and supervisors. One table, one PNG of the curves.

    python bench/gold_efficiency.py [--tasks builtin,amazon,sciq,ethics-justice]
        [--weak tfidf,noisy-category,noisy-cue,probe:smollm2] [--seeds 5] [--budgets 0,1,2,5,10]
        [--methods naive,logconf,gold-only,mixed,stacking,mistake-model]
        [--strategies random,entropy,coverage-first,mistake-uncertainty]
        [--workspace bench-workspace] [--data-dir DIR] [--png gold_efficiency.png]

Per task and seed the training items split in two halves as in `w2s experiment`: the
supervisor learns from half A (or is simulated: `noisy-category` is right except on
the task's largest test category, where it is always wrong, on tasks with
categories; `noisy-cue` is right except where the text holds the task's cue word, the
word found in about 40 % of the training texts, where it always says the label that
is rarer there; either is far below the student's ceiling only when wrong that often)
and labels half B, the pool, and the test items. Each method then buys gold on the
pool in batches (1 % of it, or half the way to the next budget if that is more),
retraining the student's probe heads after each (the campaign's loop without
LangGraph: the same trainer, features cached in the workspace, shared with
bench/w2s_experiments.py). Budgets are shares of the pool; PGR is against this seed's
supervisor and gold ceiling; intervals are 95 % over seeds. Strategies are crossed
with the mistake model only; the other methods buy at random. `naive` and `logconf`
use no gold (Burns et al.'s runs), so their row is the same at every budget. Misfit
(Charikar et al. 2024) is the share of test items where the student at the largest
budget disagrees with its supervisor; where they differ one of them is right, so the
gain in accuracy is misfit × (2 × P(student right | they differ) − 1).

Each setting's curves are kept in the workspace (`gold-efficiency/`), so a stopped
run resumes, and the table of a finished run is printed again at no cost.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from w2s.agent.items import select_items, split_by_group
from w2s.agent.evaluate import pgr
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


SIMULATED = ("noisy-category", "noisy-cue")


def cue(items, gold: dict[str, int], share: float = 0.4) -> tuple[str, int]:
    """A surface cue for `noisy-cue`: the word (4+ letters) whose presence in a text
    is nearest `share` of the items, and the label that is rarer where it is."""
    counts = Counter(w for i in items for w in set(re.findall(r"[A-Za-z]{4,}", i.text)))
    word = min(sorted(counts), key=lambda w: abs(counts[w] / len(items) - share))
    labels = [gold[i.id] for i in items if word in i.text]
    return word, int(np.mean(labels) < 0.5)


def supervisor(name: str, items, test, gold: dict[str, int]) -> OracleSpec:
    if name == "noisy-category":
        cats, counts = np.unique([i.category for i in test], return_counts=True)
        wrong = str(cats[counts.argmax()])
        # the name keys the answers kept in the store: it says what the supervisor does
        return OracleSpec(name="noisy", params={"wrong_categories": [wrong],
                                                "name": f"{name}:{wrong}"})
    if name == "noisy-cue":
        word, label = cue(items, gold)
        return OracleSpec(name="noisy", params={"cue": word, "cue_label": label,
                                                "name": f"{name}:{word}:{label}"})
    return OracleSpec(name="weak-model", params={"model": name})


def run_setting(store, trainer, dataset, train, test, weak_name, seed, args):
    """Every curve of one task, supervisor and seed: {(method, strategy): {budget: acc}},
    plus the supervisor's and the ceiling's accuracy."""
    half_a, half_b = split_by_group(train, seed)
    pool = [train[k] for k in half_b]
    run_id = f"gold-efficiency-{dataset.name}"
    spec = supervisor(weak_name, train, test, read_gold(store, item_ids=[i.id for i in train]))
    oracle = make_oracle(spec, OracleContext(
        store, dataset, run_id, Path(args.workspace), seed,
        weak_training=[train[k] for k in half_a]))
    weak_pool = ask(store, oracle, run_id, seed, pool, "weak-labels")
    weak_test = ask(store, oracle, run_id, seed, test, "evaluation")
    gold = read_gold(store, item_ids=[i.id for i in pool + test])
    y_pool = np.array([gold[i.id] for i in pool])
    y_test = np.array([gold[i.id] for i in test])
    w = np.array([weak_pool[i.id].p1 for i in pool])
    said = np.array([weak_test[i.id].p1 for i in test]) > 0.5
    acc = {"weak": float(np.mean(said == y_test)), "oracle": oracle.name}
    tag = f"{weak_name}:s{seed}"
    trainer.fit(half_b, y_pool.astype(float), -np.ones(len(pool), int),
                TrainConfig(method="mixed", loss="xent", seed=seed), f"{tag}:ceiling")
    acc["ceiling"] = float(np.mean((trainer.predict(f"{tag}:ceiling", "test")[1] > 0.5) == y_test))

    n_pool = len(pool)
    # keyed by the share asked for: pools differ a little by seed (halves keep groups)
    budgets = {b: round(b / 100 * n_pool) for b in args.budgets}
    step = max(1, round(n_pool / 100))
    features = trainer.features("train")[half_b]
    categories = np.array([i.category for i in pool])
    curves, misfit = {}, {}
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
                student = trainer.predict(version, "test")[1] > 0.5
                hit = float(np.mean(student == y_test))
                differ = student != said
                # at the largest budget (Charikar et al.'s misfit, and who is right then)
                misfit[f"{method}/{strategy}"] = (float(differ.mean()), float(
                    np.mean(student[differ] == y_test[differ])) if differ.any() else float("nan"))
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
                to_next = min(n for n in budgets.values() if n > bought) - bought
                # random picks do not depend on the model: no refits between budgets;
                # the others refit every 1 % of the pool, and at least halfway
                take = to_next if strategy == "random" else min(max(step, to_next // 2), to_next)
                chosen = pick(make_strategy(strategy).score(view), np.flatnonzero(~has), take,
                              "none", categories, features)
                has[chosen] = True
            curves[f"{method}/{strategy}"] = [curve[b] for b in args.budgets]
    return {"curves": curves, "acc": acc, "labels": list(budgets.values()), "misfit": misfit}


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
    ap.add_argument("--weak", default="tfidf,noisy-category,noisy-cue,probe:smollm2")
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
    console = Console(width=240)
    kept = Path(args.workspace) / "gold-efficiency"
    kept.mkdir(parents=True, exist_ok=True)
    same = {k: getattr(args, k) for k in ("budgets", "methods", "strategies", "n_train", "n_test",
                                           "model")}
    results = {}  # (task, weak) -> one result per seed
    started = time.monotonic()
    with Store.in_workspace(args.workspace) as store:
        for task in args.tasks.split(","):
            name, categories, max_chars = TASKS[task]
            ensure_dataset(store, name, args.data_dir)
            dataset = store.dataset(name)
            train = select_items(store, name, "train", args.n_train, categories, max_chars)
            tested = select_items(store, name, "test", args.n_test, categories, max_chars)
            trainer = None
            try:
                for weak in args.weak.split(","):
                    if weak == "noisy-category" and len({i.category for i in train}) < 2:
                        console.log(f"{task}: one category, no noisy-category supervisor")
                        continue
                    for seed in range(args.seeds):
                        key = json.dumps({"task": task, "weak": weak, "seed": seed, **same},
                                         sort_keys=True)
                        path = kept / f"{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}.json"
                        if not path.exists():
                            if trainer is None:
                                trainer = make_trainer(
                                    TrainConfig(), StudentConfig(model=args.model), dataset, train,
                                    tested, Path(args.workspace) / "models" / f"ge-{task}",
                                    Path(args.workspace), say=lambda m: console.log(f"[{task}] {m}"))
                            t0 = time.monotonic()
                            out = run_setting(store, trainer, dataset, train, tested, weak, seed, args)
                            out["seconds"] = time.monotonic() - t0
                            tmp = path.with_suffix(".tmp")
                            tmp.write_text(json.dumps(out))
                            tmp.replace(path)
                            console.log(f"{task} / {weak} / seed {seed}: {out['seconds']:.0f} s")
                        results.setdefault((task, weak), []).append(json.loads(path.read_text()))
            finally:
                if trainer is not None:
                    trainer.close()
    console.print(table(results, args, time.monotonic() - started))
    plot(results, args.budgets, args.png)
    console.print(f"curves: {args.png}")


def table(results, args, seconds: float) -> Table:
    budgets = args.budgets
    compute = sum(r["seconds"] for runs in results.values() for r in runs)
    t = Table(title=f"gold efficiency: truth-head accuracy and PGR [95% CI over {args.seeds} "
                    f"seeds] by gold budget (% of the pool, labels at seed 0; PGR n/a: ceiling not above "
                    f"the supervisor in some seed); compute "
                    f"{compute:.0f} s, this run {seconds:.0f} s")
    first = next(iter(results.values()))[0]["labels"]
    for col in ["task", "supervisor", "weak", "ceiling", "method", "strategy",
                *[f"{b:g}% ({n})" for b, n in zip(budgets, first)], "labels to random's final",
                f"misfit at {budgets[-1]:g}% (right where differ)"]:
        t.add_column(col, justify="left" if col in ("task", "supervisor", "method", "strategy")
                     else "right")
    for (task, weak), runs in results.items():
        w, c = (np.mean([r["acc"][k] for r in runs]) for k in ("weak", "ceiling"))
        label = runs[0]["acc"]["oracle"] if weak in SIMULATED else weak
        curves = runs[0]["curves"]
        for key in curves:
            method, strategy = key.split("/")
            cells = []
            for b in range(len(budgets)):
                accs = [r["curves"][key][b] for r in runs]
                pgrs = [pgr(r["acc"]["weak"], r["curves"][key][b], r["acc"]["ceiling"]) for r in runs]
                p, lo, hi = interval(pgrs)
                cells.append(f"{interval(accs)[0]:.3f} " + (
                    "n/a" if np.isnan(p) else f"{p:+.2f}" if np.isnan(lo) else
                    f"{p:+.2f} [{lo:+.2f},{hi:+.2f}]"))
            # random's final accuracy with the same method (the mistake model for strategies)
            final = np.mean([r["curves"][f"{method}/random"][-1] for r in runs])
            means = np.mean([r["curves"][key] for r in runs], axis=0)
            reach = next((b for b, m in zip(budgets, means) if m >= final), None)
            fit = np.array([r["misfit"][key] for r in runs], float)
            t.add_row(task, label, f"{w:.3f}", f"{c:.3f}", method, strategy, *cells,
                      "–" if method in NO_GOLD else
                      "not reached" if reach is None else f"{reach:g}% (random: {budgets[-1]:g}%)",
                      f"{fit[:, 0].mean():.3f} ({np.nanmean(fit[:, 1]):.2f})")
    return t


def plot(results, budgets, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(results)
    cols = min(n, 4)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
    for ax, ((task, weak), runs) in zip(axes.flat, results.items()):
        for key in runs[0]["curves"]:
            ax.plot(budgets, np.mean([r["curves"][key] for r in runs], axis=0), marker="o",
                    label=key, lw=2 if key == "mistake-model/entropy" else 1)
        for name, style in (("weak", ":"), ("ceiling", "--")):
            ax.axhline(np.mean([r["acc"][name] for r in runs]), color="grey", ls=style, lw=1)
        ax.set(title=f"{task}, {weak}", xlabel="gold labels (% of the pool)",
               ylabel="truth-head accuracy")
    for ax in axes.flat[n:]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7, title="dotted: supervisor, dashed: ceiling",
                        title_fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
