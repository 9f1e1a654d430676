"""Label efficiency of campaigns: truth-head accuracy versus gold labels bought,
each query strategy against random at equal budget, on shipped tasks.

    python bench/label_efficiency.py [--tasks amazon,sciq,ethics-justice] [--seeds 3]
        [--strategies random,entropy,disagreement,supervisor-error] [--budget 60] [--batch 10]
        [--workspace bench-workspace] [--plot label_efficiency.png]

The weak floor and strong ceiling per seed come from `w2s experiment` on the same
items and halves (same seed), so PGR is comparable. Student features are cached in
the bench workspace (shared with bench/w2s_experiments.py).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from w2s.agent.campaign import init_campaign, run_campaign
from w2s.agent.config import CampaignConfig
from w2s.agent.experiment import CEILING, WEAK, ExperimentConfig, run_experiment
from w2s.agent.student import StudentConfig
from w2s.store import Store, queries

from w2s_experiments import TASKS, ensure_dataset  # noqa: E402  (same folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="amazon,sciq,ethics-justice")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--strategies", default="random,entropy,disagreement,supervisor-error")
    ap.add_argument("--budget", type=int, default=60)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--n-train", type=int, default=1200)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--engine", default="vllm")
    ap.add_argument("--workspace", default="bench-workspace")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--plot", default="label_efficiency.png")
    args = ap.parse_args()
    console = Console(width=220)
    ws = Path(args.workspace)
    strategies = args.strategies.split(",")
    seeds = list(range(args.seeds))
    budgets = list(range(0, args.budget + 1, args.batch))
    curves: dict[tuple[str, str], np.ndarray] = {}  # (task, strategy) -> [seed, round]
    floors: dict[str, tuple[float, float]] = {}
    times: dict[str, float] = {}
    with Store.in_workspace(ws) as store:
        for task in args.tasks.split(","):
            dataset, categories, max_chars = TASKS[task]
            ensure_dataset(store, dataset, args.data_dir)
            start = time.monotonic()
            student = StudentConfig(engine=args.engine)
            ref = run_experiment(store, ExperimentConfig(
                dataset=dataset, categories=categories, max_text_chars=max_chars, seeds=seeds,
                n_train=args.n_train, n_test=args.n_test, losses=["logconf"], student=student),
                ws, say=lambda m, t=task: console.log(f"[{t}] {m}"))
            floors[task] = (ref.accuracy[WEAK], ref.accuracy[CEILING])
            for strategy in strategies:
                runs = []
                for seed in seeds:
                    cfg = CampaignConfig(
                        dataset=dataset, categories=categories, max_text_chars=max_chars,
                        seed=seed, n_train=args.n_train, n_test=args.n_test,
                        strategy={"name": strategy}, gold_per_round=args.batch, student=student,
                        oracles=[{"name": "weak-model", "role": "weak", "params": {"model": "tfidf"}},
                                 {"name": "ground-truth", "role": "gold", "cost": 1.0,
                                  "budget": args.budget}],
                        stopping=[{"name": "budget"}])
                    cid = init_campaign(store, cfg)
                    run_campaign(store, cid, ws)
                    acc = {r: v for r, n, s, v in queries.metrics(store, cid)
                           if (n, s) == ("acc:true", "test")}
                    runs.append([acc[r] for r in range(len(budgets))])
                    console.log(f"[{task}] {strategy} seed {seed}: "
                                + " ".join(f"{a:.3f}" for a in runs[-1]))
                curves[task, strategy] = np.array(runs)
            times[task] = time.monotonic() - start

    table = Table(title=f"label efficiency: truth-head test accuracy (mean of {args.seeds} seeds) "
                        f"vs gold labels bought; weak = tfidf, student SmolLM2-135M probe heads")
    for col in ["task", "strategy", *[f"{b} gold" for b in budgets],
                f"PGR @ {budgets[-1]}", "labels to random's final acc", "time"]:
        table.add_column(col, justify="left" if col in ("task", "strategy") else "right")
    for task in args.tasks.split(","):
        weak, ceiling = floors[task]
        table.add_row(task, f"(weak {weak:.3f}, ceiling {ceiling:.3f})", *[""] * (len(budgets) + 2),
                      f"{times[task]:.0f} s")
        target = curves[task, "random"].mean(0)[-1] if (task, "random") in curves else None
        for strategy in strategies:
            mean = curves[task, strategy].mean(0)
            reach = next((b for b, a in zip(budgets, mean) if target is not None and a >= target), None)
            table.add_row("", strategy, *[f"{a:.3f}" for a in mean],
                          f"{(mean[-1] - weak) / (ceiling - weak):+.2f}",
                          "-" if reach is None else str(reach), "")
    console.print(table)
    plot(curves, floors, budgets, args.tasks.split(","), strategies, args.plot)
    console.print(f"plot: {args.plot}")


def plot(curves, floors, budgets, tasks, strategies, path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 4), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        weak, ceiling = floors[task]
        for strategy in strategies:
            runs = curves[task, strategy]
            m, s = runs.mean(0), runs.std(0)
            ax.plot(budgets, m, marker="o", label=strategy)
            ax.fill_between(budgets, m - s, m + s, alpha=0.15)
        ax.axhline(weak, ls="--", c="grey", label="weak supervisor")
        ax.axhline(ceiling, ls=":", c="black", label="ceiling (all gold)")
        ax.set(title=task, xlabel="gold labels bought", ylabel="truth-head test accuracy")
    axes[0][0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
