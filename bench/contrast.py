"""Experiments on the supervisor: what the student's contrast items teach, at 0 and
2 % gold, with and without them. One table, one PNG of flip rates.

    python bench/contrast.py [--settings builtin:tfidf,amazon:noisy-cue,sciq:noisy-cue]
        [--seeds 3] [--parents 120] [--edits drop-lead,add-lead,paraphrase,negate]
        [--workspace bench-workspace] [--data-dir DIR] [--png contrast.png]

Per task the student (the default model) edits `parents` training items (spread over
categories) once, in every edit, exactly as a campaign does (written, validated by
its own zero-shot judgement, logged with provenance under the run `contrast-<task>`).
Per seed the training items split in halves as in bench/gold_efficiency.py (the same
supervisors: trained on half A, or simulated), the supervisor labels the pool, the
test items and the valid edits of pool items (at its cost, as queries of purpose
"contrast"), and the supervisor report is made from its reactions. Then each method
trains the probe heads on the pool, with no gold and with 2 % of the pool as random
gold, without and with the pairs (and, for the mistake model with them, 2 % bought in
two halves by hypothesis-disagreement): the mistake model takes them as evidence, the
mixed truth head (logconf) as invariance and anti-invariance terms. PGR is against
the seed's supervisor and gold ceiling; intervals are 95 % over seeds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from w2s.agent.contrast.report import Reaction, SupervisorReport
from w2s.agent.contrast.write import as_item, opened, pick_parents, write_contrasts
from w2s.agent.evaluate import pgr
from w2s.agent.items import select_items, split_by_group
from w2s.agent.strategies import PoolView, make_strategy, pick
from w2s.agent.student import StudentConfig
from w2s.agent.student.models import DEFAULT_MODEL
from w2s.agent.training import TrainConfig
from w2s.agent.training.trainers import Contrasted, make_trainer
from w2s.oracles import OracleContext, make_oracle
from w2s.oracles import ask
from w2s.store import Contrast, Purpose, Store, queries
from w2s.store.gold import read_gold

from gold_efficiency import interval, supervisor  # noqa: E402 (bench/ is the script's path)
from w2s_experiments import TASKS, ensure_dataset  # noqa: E402

PAIRS = ["invariance", "anti-invariance"]
METHODS = {  # name -> (without the pairs, with them)
    "mistake-model": (TrainConfig(method="mistake-model",
                                  mistakes={"pair_sd": None}),
                      TrainConfig(method="mistake-model", mistakes={"pair_sd": 0.5})),
    "logconf": (TrainConfig(method="mixed", loss="logconf"),
                TrainConfig(method="mixed", loss="logconf", consistency=PAIRS)),
}
GOLD_SHARE = 2.0  # % of the pool
HD = "mistake-model/pairs/hypothesis-disagreement"  # 2 % bought where hypotheses disagree


def contrasts_of(store, trainer, dataset, train, args, console) -> tuple[list[Contrast], float]:
    """The student's edits of `parents` training items: written once per task (a
    rerun reads them from the log). Returns the valid ones and the seconds spent."""
    run_id = f"contrast-{dataset.name}"
    parents = pick_parents(train, np.zeros(len(train)), args.parents, 0)
    started = time.monotonic()
    done = queries.contrasts(store, run_id)
    if len(done) < len(parents) * len(args.edits):
        with opened(trainer.student) as student:
            write_contrasts(student, store, run_id, 0, parents, dataset, args.edits, 0,
                            say=lambda m: console.log(f"[{dataset.name}] {m}"))
    seconds = time.monotonic() - started
    logged = queries.contrasts(store, run_id)
    return logged, seconds


def run_setting(store, trainer, dataset, train, test, weak_name, seed, logged, args):
    half_a, half_b = split_by_group(train, seed)
    pool = [train[k] for k in half_b]
    row = {i.id: k for k, i in enumerate(train)}
    in_pool = set(i.id for i in pool)
    run_id = f"contrast-{dataset.name}"
    spec = supervisor(weak_name, train, test, read_gold(store, item_ids=[i.id for i in train]))
    oracle = make_oracle(spec, OracleContext(store, dataset, run_id, Path(args.workspace), seed,
                                             weak_training=[train[k] for k in half_a]))
    weak_pool = ask(store, oracle, run_id, seed, pool, Purpose.WEAK_LABELS)
    weak_test = ask(store, oracle, run_id, seed, test, Purpose.EVALUATION)
    valid = [c for c in logged if c.status == "valid" and c.parent_id in in_pool]
    items = [as_item(c, train[row[c.parent_id]]) for c in valid]
    reacted = ask(store, oracle, run_id, seed, items, Purpose.CONTRAST)
    by_id = {i.id: i for i in train}
    report = SupervisorReport.of(
        Reaction(c.edit, c.flips, by_id[c.parent_id].category, weak_pool[c.parent_id].value,
                 reacted[c.id].value) for c in valid if c.id in reacted)
    top = report.top_sensitivity()

    gold = read_gold(store, item_ids=[i.id for i in pool + test])
    y_pool = np.array([gold[i.id] for i in pool])
    y_test = np.array([gold[i.id] for i in test])
    w = np.array([weak_pool[i.id].p1 for i in pool])
    said = np.array([weak_test[i.id].p1 for i in test]) > 0.5
    acc = {"weak": float(np.mean(said == y_test)), "oracle": oracle.name}
    tag = f"contrast:{weak_name}:s{seed}"
    trainer.fit(half_b, y_pool.astype(float), -np.ones(len(pool), int),
                TrainConfig(method="mixed", loss="xent", seed=seed), f"{tag}:ceiling")
    acc["ceiling"] = float(np.mean((trainer.predict(f"{tag}:ceiling", "test")[1] > 0.5) == y_test))

    pairs = [Contrasted(row[c.parent_id], item, c.flips) for c, item in zip(valid, items)]
    n_gold = round(GOLD_SHARE / 100 * len(pool))
    bought = np.random.default_rng([seed, 2]).choice(len(pool), n_gold, replace=False)
    results = {}
    for method, configs in METHODS.items():
        for with_pairs, cfg in zip((False, True), configs):
            for share, chosen in ((0.0, bought[:0]), (GOLD_SHARE, bought)):
                gold_arr = -np.ones(len(pool), int)
                gold_arr[chosen] = y_pool[chosen]
                version = f"{tag}:{method}:{with_pairs}:{share:g}"
                trainer.fit(half_b, w, gold_arr, cfg.model_copy(update={"seed": seed}), version,
                            pairs if with_pairs else ())
                hit = trainer.predict(version, "test")[1] > 0.5
                results[f"{method}/{'pairs' if with_pairs else 'none'}/{share:g}"] = float(
                    np.mean(hit == y_test))
    # gold where the hypotheses still disagree after the experiments: the mistake model
    # with the pairs buys its 2 % in two halves by hypothesis-disagreement
    cfg = METHODS["mistake-model"][1].model_copy(update={"seed": seed})
    version, has = f"{tag}:mistake-model:True:0", np.zeros(len(pool), bool)
    categories = np.array([i.category for i in pool])
    for k, take in enumerate((n_gold // 2, n_gold - n_gold // 2)):
        p_weak, p_true = trainer.predict(version, "train")
        sd = trainer.truth_sd(version, "train")
        view = PoolView(p_weak=p_weak[half_b], p_true=p_true[half_b], weak_labels=w,
                        categories=categories, has_gold=has,
                        truth_sd=None if sd is None else sd[half_b])
        has[pick(make_strategy("hypothesis-disagreement").score(view), np.flatnonzero(~has),
                 take, "none", categories)] = True
        version = f"{tag}:mistake-model:hd:{k}"
        trainer.fit(half_b, w, np.where(has, y_pool, -1), cfg, version, pairs)
    results[HD] = float(np.mean((trainer.predict(version, "test")[1] > 0.5) == y_test))
    return {"acc": acc, "results": results, "top": top and top.edit,
            "top_rate": top and top.rate,
            "report": [(r.edit, r.flips, r.region, r.n, r.revealed) for r in report.rows],
            "valid_in_pool": len(valid), "weak_queries": len(reacted)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", default="builtin:tfidf,amazon:noisy-cue,sciq:noisy-cue")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--parents", type=int, default=120)
    ap.add_argument("--edits", default="drop-lead,add-lead,paraphrase,negate")
    ap.add_argument("--n-train", type=int, default=1200)
    ap.add_argument("--n-test", type=int, default=1000)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--workspace", default="bench-workspace")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--png", default="contrast.png")
    args = ap.parse_args()
    args.edits = args.edits.split(",")
    console = Console(width=240)
    kept = Path(args.workspace) / "contrast"
    kept.mkdir(parents=True, exist_ok=True)
    results, costs = {}, {}
    started = time.monotonic()
    with Store.in_workspace(args.workspace) as store:
        for setting in args.settings.split(","):
            task, weak = setting.split(":", 1)
            name, categories, max_chars = TASKS[task]
            ensure_dataset(store, name, args.data_dir)
            dataset = store.dataset(name)
            train = select_items(store, name, "train", args.n_train, categories, max_chars)
            tested = select_items(store, name, "test", args.n_test, categories, max_chars)
            trainer = make_trainer(TrainConfig(), StudentConfig(model=args.model), dataset, train,
                                   tested, Path(args.workspace) / "models" / f"ct-{task}",
                                   Path(args.workspace), say=lambda m: console.log(f"[{task}] {m}"))
            try:
                logged, seconds = contrasts_of(store, trainer, dataset, train, args, console)
                timing = kept / f"{task}-generation.json"
                if not timing.exists():  # the first run's time is the generation's
                    timing.write_text(json.dumps({"seconds": seconds}))
                costs[task] = {"seconds": json.loads(timing.read_text())["seconds"],
                               "written": len(logged),
                               "valid": sum(c.status == "valid" for c in logged),
                               "rejected": Counter(c.reason for c in logged if c.reason)}
                for seed in range(args.seeds):
                    key = json.dumps({"setting": setting, "seed": seed, "parents": args.parents,
                                      "edits": args.edits, "model": args.model}, sort_keys=True)
                    path = kept / f"{hashlib.blake2b(key.encode(), digest_size=8).hexdigest()}.json"
                    if not path.exists():
                        t0 = time.monotonic()
                        out = run_setting(store, trainer, dataset, train, tested, weak, seed,
                                          logged, args)
                        out["seconds"] = time.monotonic() - t0
                        tmp = path.with_suffix(".tmp")
                        tmp.write_text(json.dumps(out))
                        tmp.replace(path)
                        console.log(f"{setting} / seed {seed}: {out['seconds']:.0f} s")
                    results.setdefault(setting, []).append(json.loads(path.read_text()))
            finally:
                trainer.close()
    console.print(table(results, costs, args, time.monotonic() - started))
    plot(results, args.png)
    console.print(f"flip rates: {args.png}")


def _cell(runs, key) -> str:
    accs = [r["results"][key] for r in runs]
    pgrs = [pgr(r["acc"]["weak"], r["results"][key], r["acc"]["ceiling"]) for r in runs]
    p, lo, hi = interval(pgrs)
    return (f"{np.mean(accs):.3f} " + ("n/a" if np.isnan(p) else f"{p:+.2f}" if np.isnan(lo)
                                       else f"{p:+.2f} [{lo:+.2f},{hi:+.2f}]"))


def _delta(runs, a, b) -> str:
    d = [pgr(r["acc"]["weak"], r["results"][b], r["acc"]["ceiling"])
         - pgr(r["acc"]["weak"], r["results"][a], r["acc"]["ceiling"]) for r in runs]
    p, lo, hi = interval(d)
    return "n/a" if np.isnan(p) else f"{p:+.2f}" if np.isnan(lo) else f"{p:+.2f} [{lo:+.2f},{hi:+.2f}]"


def table(results, costs, args, seconds: float) -> Table:
    t = Table(title=f"experiments on the supervisor: truth-head accuracy and PGR [95% CI over "
                    f"{args.seeds} seeds] at 0 and {GOLD_SHARE:g} % gold, without and with the "
                    f"student's contrast pairs ({args.parents} parents x {len(args.edits)} edits); "
                    f"this run {seconds:.0f} s")
    for col in ("task / supervisor (acc, ceiling)", "method", "0 gold: without", "with",
                "Δ PGR", f"{GOLD_SHARE:g}%: without", "with", "Δ PGR",
                "with, bought by hypothesis-disagreement",
                "top sensitivity (seeds)", "cost: written / valid / weak queries / s"):
        t.add_column(col, justify="left" if col in ("method",) or col.startswith("task")
                     or col.startswith("top") else "right")
    for setting, runs in results.items():
        task = setting.split(":")[0]
        w, c = (np.mean([r["acc"][k] for r in runs]) for k in ("weak", "ceiling"))
        tops = Counter(r["top"] for r in runs)
        rate = np.mean([r["top_rate"] for r in runs if r["top"] == tops.most_common(1)[0][0]
                        and r["top_rate"] is not None] or [np.nan])
        cost = costs[task]
        for method in METHODS:
            k = lambda pairs, share: f"{method}/{pairs}/{share:g}"
            t.add_row(f"{setting} ({w:.3f}, {c:.3f})", method,
                      _cell(runs, k("none", 0)), _cell(runs, k("pairs", 0)),
                      _delta(runs, k("none", 0), k("pairs", 0)),
                      _cell(runs, k("none", GOLD_SHARE)), _cell(runs, k("pairs", GOLD_SHARE)),
                      _delta(runs, k("none", GOLD_SHARE), k("pairs", GOLD_SHARE)),
                      _cell(runs, HD) if method == "mistake-model" else "–",
                      ", ".join(f"{e} ({n})" for e, n in tops.most_common()) + f"; {rate:.0%}",
                      f"{cost['written']} / {cost['valid']} / "
                      f"{np.mean([r['weak_queries'] for r in runs]):.0f} / {cost['seconds']:.0f}")
    return t


def plot(results, path: str) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 4), squeeze=False)
    for ax, (setting, runs) in zip(axes.flat, results.items()):
        shown: dict[str, list[float]] = {}
        for r in runs:
            for edit, flips, region, n, revealed in r["report"]:
                if region == "all":
                    shown.setdefault(f"{edit} ({'flip' if flips else 'keep'})", []).append(
                        revealed / n)
        names = sorted(shown)
        ax.bar(range(len(names)), [np.mean(shown[n]) for n in names],
               yerr=[np.std(shown[n]) for n in names], capsize=3)
        ax.set_xticks(range(len(names)), names, rotation=20, fontsize=8)
        ax.set(title=setting, ylim=(0, 1), ylabel="share of pairs showing a supervisor mistake")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
