"""Do consistency checks help? On shipped tasks with option groups, the same
campaign (a) with check-driven queries and (b) with the consistency training term,
against the same campaign without them: truth-head accuracy per gold budget and PGR.

    python bench/checks_effect.py [--tasks sciq,mmlu] [--seeds 3] [--budget 40] [--batch 10]
        [--workspace bench-workspace]
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
from w2s.checks import VIOLATION
from w2s.store import Store, queries

from w2s_experiments import ensure_dataset  # noqa: E402  (same folder)

TASKS = {"sciq": ("sciq", None), "mmlu": ("mmlu", None)}
CHECKS = [{"name": "cross-examination"}, {"name": "negation"}, {"name": "option-group"}]
ARMS = {  # name: (strategy, checks, consistency terms)
    "baseline (entropy)": ("entropy", [], []),
    "(a) check-violation queries": ("check-violation", CHECKS, []),
    "(b) + consistency term": ("entropy", [], ["option-group", "negation"]),
    "(a) + (b)": ("check-violation", CHECKS, ["option-group", "negation"]),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="sciq,mmlu")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=40)
    ap.add_argument("--batch", type=int, default=10)
    ap.add_argument("--n-train", type=int, default=1200)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--engine", default="vllm")
    ap.add_argument("--workspace", default="bench-workspace")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    console = Console(width=200)
    ws, seeds = Path(args.workspace), list(range(args.seeds))
    student = StudentConfig(engine=args.engine)
    rows = []
    with Store.in_workspace(ws) as store:
        for task in args.tasks.split(","):
            dataset, categories = TASKS[task]
            ensure_dataset(store, dataset, args.data_dir)
            ref = run_experiment(store, ExperimentConfig(
                dataset=dataset, categories=categories, seeds=seeds, n_train=args.n_train,
                n_test=args.n_test, losses=["logconf"], student=student), ws,
                say=lambda m, t=task: console.log(f"[{t}] {m}"))
            weak, ceiling = ref.accuracy[WEAK], ref.accuracy[CEILING]
            for arm, (strategy, checks, terms) in ARMS.items():
                start, finals, curves = time.monotonic(), [], []
                for seed in seeds:
                    cfg = CampaignConfig(
                        dataset=dataset, categories=categories, seed=seed,
                        n_train=args.n_train, n_test=args.n_test, gold_per_round=args.batch,
                        strategy={"name": strategy}, checks=checks, student=student,
                        train={"consistency": terms},
                        oracles=[{"name": "weak-model", "role": "weak", "params": {"model": "tfidf"}},
                                 {"name": "ground-truth", "role": "gold", "budget": args.budget}],
                        stopping=[{"name": "budget"}])
                    cid = init_campaign(store, cfg)
                    run_campaign(store, cid, ws, say=lambda m, t=task: console.log(f"[{t}] {m}"))
                    acc = {r: v for r, n, s, v in queries.metrics(store, cid)
                           if (n, s) == ("acc:true", "test")}
                    curves.append([acc[r] for r in sorted(acc)])
                    per_round = queries.checks_per_round(store, cid, VIOLATION)  # all checks
                    last = max(r for r, *_ in per_round)
                    n = sum(k for r, _, k, _, _ in per_round if r == last)
                    viol = sum(k * m for r, _, k, m, _ in per_round if r == last) / n
                    finals.append(viol)
                mean = np.mean(curves, axis=0)
                rows.append((task, arm, weak, ceiling, mean, finals, time.monotonic() - start))
                console.log(f"[{task}] {arm}: " + " ".join(f"{a:.3f}" for a in mean))
    budgets = list(range(0, args.budget + 1, args.batch))
    table = Table(title=f"consistency checks: truth-head test accuracy (mean of {args.seeds} seeds) "
                        "vs gold labels; weak = tfidf, SmolLM2-135M probe heads")
    for col in ["task", "arm", *[f"{b} gold" for b in budgets], f"PGR @ {budgets[-1]}",
                "mean violation (last checks)", "time"]:
        table.add_column(col, justify="left" if col in ("task", "arm") else "right")
    for task, arm, weak, ceiling, mean, viol, seconds in rows:
        v = [x for x in viol if x is not None]
        table.add_row(task, arm, *[f"{a:.3f}" for a in mean],
                      f"{(mean[-1] - weak) / (ceiling - weak):+.2f}",
                      f"{np.mean(v):.3f}" if v else "-", f"{seconds:.0f} s")
    console.print(table)


if __name__ == "__main__":
    main()
