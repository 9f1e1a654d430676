"""Weak-to-strong on shipped tasks: `w2s experiment` per task and supervisor, one table.

    python bench/w2s_experiments.py [--tasks builtin,amazon,sciq,ethics-justice,mmlu,truthfulqa]
        [--weak tfidf,probe:smollm2] [--seeds 3] [--n-train 1200] [--n-test 1000]
        [--losses xent,logconf] [--gold 1,2] [--model NAME|PATH] [--engine vllm|hf]

Per task and supervisor, on the same test items: the supervisor, the student's
zero-shot answers, naive W2S (xent) and logconf (Burns et al.), a probe trained where
supervisor and zero-shot agree, the zero-gold head (the campaign's round 0: a label
model over supervisor, zero-shot answers and a probe on features), the same after
`--gold` % of the student's half as random gold (through the mistake model), and two
ceilings: the truth head with every gold label (it reads the zero-shot answers too:
PGR's denominator) and the probe on features alone (the ceiling before). Cells are
seed-averaged accuracy and PGR with a 95 % bootstrap CI over test items.

Student features and zero-shot answers are cached in the bench workspace, so each
task pays for them once (the first supervisor's row carries that time) and a rerun
(say with other losses) costs only training time.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from rich.console import Console
from rich.table import Table

from w2s.agent.evaluate import pgr_text
from w2s.agent.experiment import (AGREEMENT, CEILING, CEILING_FEATURES, WEAK, ZERO_GOLD,
                                  ExperimentConfig, run_experiment)
from w2s.store.versions import ZERO_SHOT
from w2s.agent.student import StudentConfig
from w2s.store import Store, StoreError
from w2s.agent.student.models import DEFAULT_MODEL
from w2s.store.datasets import data_dir, generate, load_named

# name: (dataset, categories, longest text kept)
TASKS = {
    "builtin": ("builtin", None, None),
    "amazon": ("amazon", None, 400),  # ~100 tokens: the 1.5B student's features take ~30 min on 2 cores
    "sciq": ("sciq", None, None),
    "ethics-justice": ("ethics", ["justice"], None),
    "ethics-commonsense": ("ethics", ["commonsense"], 400),
    "mmlu": ("mmlu", None, 400),  # correct vs one wrong option; each option group a question
    "truthfulqa": ("truthfulqa", None, None),
}


def ensure_dataset(store: Store, name: str, data_dir_arg: str | None) -> None:
    """Import a shared dataset into the bench workspace unless it is there."""
    try:
        store.dataset(name)
    except StoreError:
        loaded = generate() if name == "builtin" else load_named(name, str(data_dir(data_dir_arg)))
        store.import_dataset(loaded.dataset, loaded.items, loaded.gold)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", default="builtin,amazon,sciq,ethics-justice")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--n-train", type=int, default=1200)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--weak", default="tfidf,probe:smollm2")
    ap.add_argument("--losses", default="xent,logconf")
    ap.add_argument("--gold", default="1,2", help="shares (%%) of random gold after round 0")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--engine", default="vllm")
    ap.add_argument("--workspace", default="bench-workspace")
    ap.add_argument("--data-dir", default=None)
    args = ap.parse_args()
    console = Console(width=200)
    workspace = Path(args.workspace)
    losses = [x for x in args.losses.split(",") if x]
    shares = [float(x) for x in args.gold.split(",") if x]
    rows = []
    with Store.in_workspace(workspace) as store:
        for task in args.tasks.split(","):
            dataset, categories, max_chars = TASKS[task]
            ensure_dataset(store, dataset, args.data_dir)
            for weak in args.weak.split(","):
                cfg = ExperimentConfig(dataset=dataset, categories=categories,
                                       max_text_chars=max_chars, weak=weak,
                                       seeds=list(range(args.seeds)), n_train=args.n_train,
                                       n_test=args.n_test, losses=losses, gold_shares=shares,
                                       student=StudentConfig(model=args.model,
                                                             engine=args.engine))
                start = time.monotonic()
                result = run_experiment(store, cfg, workspace,
                                        say=lambda m, t=task: console.log(f"[{t}] {m}"))
                rows.append((task, weak, result, time.monotonic() - start))
                console.log(f"{task} / {weak}: " + ", ".join(
                    f"{m} {a:.3f}" for m, a in sorted(result.accuracy.items())))

    methods = [ZERO_SHOT, *[f"w2s-{loss}" for loss in losses], AGREEMENT, ZERO_GOLD,
               *[f"{ZERO_GOLD}+{g:g}%" for g in shares], CEILING_FEATURES]
    names = {ZERO_SHOT: "zero-shot", "w2s-xent": "naive", AGREEMENT: "agreement",
             ZERO_GOLD: "zero-gold (0)", CEILING_FEATURES: "ceiling on features",
             **{f"{ZERO_GOLD}+{g:g}%": f"zero-gold +{g:g} % gold" for g in shares}}
    table = Table(title=f"weak-to-strong, student {args.model} probe heads, {args.seeds} "
                        "seeds: accuracy, PGR [95% bootstrap CI over test items]")
    for col in ["task / weak", "train/test", "weak", "ceiling",
                *[names.get(m, m.removeprefix("w2s-")) for m in methods], "time"]:
        table.add_column(col, justify="left" if col == "task / weak" else "right")
    for task, weak, r, seconds in rows:
        acc = r.accuracy

        def cell(m):
            if m not in acc:
                return "–"
            return f"{acc[m]:.3f} {pgr_text(*r.pgr[m])}" if m in r.pgr else f"{acc[m]:.3f}"

        table.add_row(f"{task} / {weak}", f"{r.n_train}/{r.n_test}", f"{acc[WEAK]:.3f}",
                      f"{acc[CEILING]:.3f}", *[cell(m) for m in methods], f"{seconds:.0f} s")
    console.print(table)
    zero = [r.pgr[ZERO_GOLD][0] for *_, r, _ in rows if ZERO_GOLD in r.pgr]
    if zero:
        console.print(f"median zero-gold PGR over {len(zero)} settings: {np.median(zero):+.2f} "
                      "(target >= 0.7)")


if __name__ == "__main__":
    main()
