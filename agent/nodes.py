"""The campaign's nodes: plain functions of (state, runtime) that return updates.
Each one is safe to run again after a crash: store writes skip rows already there,
oracles are never re-asked for a logged label, training is seeded."""

from __future__ import annotations

from datetime import datetime

import numpy as np
from langgraph.runtime import Runtime

from w2s.checks import VIOLATION, CheckView, run_checks
from w2s.oracles import ask
from w2s.store import Metric, Prediction, TrainingRound, queries, versions
from w2s.store import Purpose

from .context import MISTAKES, SOURCES, Context
from .contrast.report import SupervisorReport, describe, reactions
from .contrast.write import as_item, opened, pick_parents, write_contrasts
from .evaluate import all_have_gold, correct
from .experiment import find_reference, reference_config, run_experiment
from .state import CampaignState
from .stopping import make_stopping
from .strategies import PoolView, make_strategy, pick


def reference(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """The weak floor and gold ceiling the audit measures PGR between: the reference
    experiment on this campaign's items and seed, unless one is logged already."""
    ctx = runtime.context
    config = reference_config(ctx.config) if ctx.config.reference else None
    if config is None:
        return {}
    if not all_have_gold(ctx.store, [i.id for i in [*ctx.train_items, *ctx.test]]):
        ctx.say("reference run skipped: the ceiling needs gold for every item (no PGR)")
        return {}
    found = find_reference(ctx.store, config)
    if found:
        ctx.say(f"reference run: {found} (logged)")
    else:
        ctx.say("reference run: weak floor, zero-shot, naive W2S and gold ceiling")
        # one id per campaign: a rerun after a crash finishes the same run
        run_experiment(ctx.store, config, ctx.workspace, say=ctx.say, track=ctx.track,
                       experiment_id=f"exp-{ctx.campaign_id}-reference")
    return {}


def label_weak(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """Cheap labels in bulk: each weak oracle labels the pool, within its budget."""
    ctx = runtime.context
    have = ctx.labels("weak")  # once: a kill may have left some of the pool labeled
    todo = [i for i in ctx.pool if i.id not in have]
    for spec in ctx.config.oracles:
        if spec.role != "weak" or not todo:
            continue
        oracle = ctx.oracle(spec)
        take = todo if spec.budget is None else todo[:spec.budget]
        ctx.say(f"weak labels from {oracle.name}: {len(take)} items")
        got = ask(ctx.store, oracle, ctx.campaign_id, 0, take, Purpose.BULK)
        todo = [i for i in todo if i.id not in got]
    return {"round": 0, "gold_budget": ctx.config.gold_budget}


def contrast(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """Experiments on the supervisor: the student edits pool items to keep or to flip
    their truth, and the weak oracles label the valid edits. First before any gold is
    bought, then again (on items not edited yet) whenever predict finds the mistake
    model has moved enough. The reactions are in the log for training, the supervisor
    report and the audit."""
    ctx = runtime.context
    cfg = ctx.config.contrast
    if not cfg.enabled:
        return {}
    weak = ctx.labels("weak")
    # earlier runs' parents only: a resumed run must pick the parents it began with
    edited = queries.contrast_parents(ctx.store, ctx.campaign_id, state.round)
    pool = [i for i in ctx.pool if i.id in weak and i.id not in edited]
    parents = pick_parents(pool, np.array([weak[i.id].p1 for i in pool]), cfg.parents,
                           ctx.config.seed)
    ctx.trainer.release()  # e.g. the feature server of a later round: not two models at once
    with opened(ctx.trainer.student) as student:
        written = write_contrasts(student, ctx.store, ctx.campaign_id, state.round, parents,
                                  ctx.dataset, cfg.edits, ctx.config.seed, cfg.max_tokens,
                                  ctx.say, ctx.track)
    by_id = {i.id: i for i in parents}
    items = [as_item(c, by_id[c.parent_id]) for c in written][:cfg.weak_queries]
    for spec in ctx.config.oracles:
        if spec.role == "weak" and items:
            ask(ctx.store, ctx.oracle(spec), ctx.campaign_id, state.round, items,
                Purpose.CONTRAST)
    top = SupervisorReport.of(reactions(ctx.store, ctx.campaign_id)).top_sensitivity()
    ctx.say(f"contrast items (run {state.contrast_runs + 1}, round {state.round}): "
            f"{len(written)} valid of {len(parents) * len(cfg.edits)}; "
            + (f"the supervisor's top sensitivity: {describe(top)}" if top else
               "no truth-keeping edit moved the supervisor"))
    return {"contrast_runs": state.contrast_runs + 1, "contrast_base": None,
            "contrast_due": False}


def train(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """Both heads on every label so far: weak labels, plus gold where bought."""
    ctx = runtime.context
    weak, gold = ctx.labels("weak"), ctx.labels("gold")
    rows = [k for k, i in zip(ctx.pool_rows, ctx.pool) if i.id in weak or i.id in gold]
    items = [ctx.train_items[k] for k in rows]
    targets = np.array([weak[i.id].p1 if i.id in weak else gold[i.id].value for i in items])
    gold_arr = np.array([gold[i.id].value if i.id in gold else -1 for i in items])
    version = versions.of_round(ctx.campaign_id, state.round)
    # one training seed for every round: round-to-round changes come from the labels
    cfg = ctx.config.train.model_copy(update={"seed": ctx.config.seed})
    started = datetime.now()
    ctx.say(f"round {state.round}: training on {len(rows)} weak and "
            f"{int((gold_arr >= 0).sum())} gold labels")
    chosen = ctx.trainer.fit(np.array(rows), targets, gold_arr, cfg, version, ctx.contrasts())
    if baseline(ctx, int((gold_arr >= 0).sum())):  # the same student on the bought gold alone
        ctx.trainer.fit(np.array(rows), targets, gold_arr,
                        cfg.model_copy(update={"method": "gold-only"}), versions.gold_only(version))
    ctx.store.write([TrainingRound(
        campaign_id=ctx.campaign_id, round=state.round, loss=cfg.loss, n_weak=len(weak),
        n_gold=int((gold_arr >= 0).sum()), model_version=version, started_at=started,
        details={"mode": cfg.mode, "method": cfg.method, "strategy": ctx.config.strategy.name,
                 **chosen})])
    return {"model_version": version}


def evaluate(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """Test accuracy (evaluation reads gold; nothing else here does), the
    student's own accuracy estimate on the pool, spend, and whether to stop."""
    ctx = runtime.context
    p_weak, p_true = ctx.predict(state.model_version, "test")
    ctx.store.write(_predictions(ctx, state, ctx.test, p_weak, p_true))
    hits = correct(ctx.store, ctx.test, p_true)
    gold_only = None
    if baseline(ctx, len(ctx.labels("gold"))):
        _, p = ctx.trainer.predict(versions.gold_only(state.model_version), "test")
        ctx.store.write(_predictions(ctx, state, ctx.test, p, p, versions.gold_only(state.model_version),
                                     heads=("true",)))
        gold_only = correct(ctx.store, ctx.test, p)
    weak_hits = correct(ctx.store, ctx.test, p_weak)
    held = np.array([i.category in ctx.config.held_out for i in ctx.test])
    _, pool_true = ctx.predict(state.model_version, "train")
    pool_true = pool_true[ctx.pool_rows]
    estimate = float(np.mean(np.maximum(pool_true, 1 - pool_true)))
    metrics = {("acc:true", "test"): _mean(hits[~held]),
               ("acc:weak-head", "test"): _mean(weak_hits[~held]),
               ("acc:true", "held-out"): _mean(hits[held]),
               ("acc:gold-only", "test"): None if gold_only is None else _mean(gold_only[~held]),
               ("est_acc", "pool"): estimate,
               ("gold_labels", "spend"): float(state.gold_spent),
               ("cost", "spend"): ctx.cost()}
    ctx.store.write([Metric(campaign_id=ctx.campaign_id, round=state.round, name=n, scope=s,
                            value=v) for (n, s), v in metrics.items() if v is not None])
    ctx.store.write(_mistake_estimates(ctx, state))
    ctx.report(state.round, metrics)
    after = CampaignState(**{**state.__dict__, "estimates": [*state.estimates, estimate]})
    reasons = [make_stopping(s.name, s.params).reason(after) for s in ctx.config.stopping]
    return {"estimates": after.estimates,
            "stop_reason": next((r for r in reasons if r), None)}


def predict(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """A new round: the current student's two heads on the pool, logged."""
    ctx = runtime.context
    p_weak, p_true = ctx.predict(state.model_version, "train")
    new = CampaignState(**{**state.__dict__, "round": state.round + 1})
    ctx.store.write(_predictions(ctx, new, ctx.pool, p_weak[ctx.pool_rows],
                                 p_true[ctx.pool_rows]))
    return {"round": new.round, **_contrast_due(ctx, state, new.round, p_true[ctx.pool_rows])}


def _contrast_due(ctx: Context, state: CampaignState, round: int,
                  p_true: np.ndarray) -> dict:
    """Whether to experiment again: the first predictions after a run are the base;
    later, once `rerun_after` of the pool has changed its predicted truth since
    then, the mistake model has moved enough for new experiments."""
    cfg = ctx.config.contrast
    if not cfg.enabled or cfg.rerun_after is None or state.contrast_runs == 0:
        return {}
    if state.contrast_base is None:
        return {"contrast_base": round}
    if state.contrast_runs >= cfg.runs:
        return {}
    base = queries.round_predictions(ctx.store, ctx.campaign_id, state.contrast_base,
                                     versions.of_round(ctx.campaign_id, state.contrast_base - 1))
    ids = [i.id for i in ctx.pool]
    known = np.array([(i, "true") in base for i in ids])
    if not known.any():
        return {}
    before = np.array([base.get((i, "true"), 0.5) for i in ids])[known] > 0.5
    changed = float(np.mean(before != (p_true[known] > 0.5)))
    if changed >= cfg.rerun_after:
        ctx.say(f"round {round}: {changed:.0%} of the pool changed its predicted truth since "
                f"round {state.contrast_base}; the student experiments on its supervisor again")
        return {"contrast_due": True}
    return {}


def select(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """The strategy's picks among pool items without gold, within the budget."""
    ctx = runtime.context
    gold, weak = ctx.labels("gold"), ctx.labels("weak")
    probs = queries.round_predictions(ctx.store, ctx.campaign_id, state.round,
                                      state.model_version)
    ids = [i.id for i in ctx.pool]
    view = PoolView(
        p_weak=np.array([probs[i, "weak"] for i in ids]),
        p_true=np.array([probs[i, "true"] for i in ids]),
        weak_labels=np.array([weak[i].p1 if i in weak else np.nan for i in ids]),
        categories=np.array([i.category for i in ctx.pool]),
        features=ctx.pool_features(),
        checks=ctx.check_scores(state.round),
        rng=np.random.default_rng([ctx.config.seed, state.round]),
        has_gold=np.array([i in gold for i in ids]), truth_sd=ctx.truth_sd(state.model_version))
    candidates = np.array([k for k, i in enumerate(ids) if i not in gold], int)
    budget_left = (None if state.gold_budget is None
                   else max(state.gold_budget - state.gold_spent, 0))
    k = ctx.config.gold_per_round if budget_left is None else min(ctx.config.gold_per_round,
                                                                   budget_left)
    scores = make_strategy(ctx.config.strategy.name, ctx.config.strategy.params).score(view)
    chosen = pick(scores, candidates, k, ctx.config.diversity, view.categories, view.features)
    return {"selected": [ids[k] for k in chosen], "scores": [float(scores[k]) for k in chosen],
            "pool_exhausted": len(candidates) == 0}


def query(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """Send the picks to the gold oracles, in config order, each within its budget."""
    ctx = runtime.context
    by_id = {i.id: i for i in ctx.pool}
    todo = [by_id[i] for i in state.selected]
    scores = dict(zip(state.selected, state.scores))
    for spec in ctx.config.oracles:
        if spec.role != "gold" or not todo:
            continue
        oracle = ctx.oracle(spec)
        left = None if spec.budget is None else spec.budget - ctx.spent(oracle.name, state.round)
        take = todo if left is None else todo[:max(left, 0)]
        if take:
            ctx.say(f"round {state.round}: {len(take)} items to {oracle.name}")
            ask(ctx.store, oracle, ctx.campaign_id, state.round, take,
                ctx.config.strategy.name, [scores.get(i.id) for i in take])
        todo = todo[len(take):]
    return {"gold_spent": len(ctx.labels("gold"))}


def check(state: CampaignState, runtime: Runtime[Context]) -> dict:
    """Run the consistency checks the config enables on the model that just
    predicted; their scores feed this round's selection and the audit."""
    ctx = runtime.context
    if not ctx.config.checks:
        return {}
    view = CheckView(
        campaign_id=ctx.campaign_id, round=state.round, model_version=state.model_version,
        seed=ctx.config.seed, dataset=ctx.dataset, pool=ctx.pool, selected=state.selected,
        truth=lambda variant, items: ctx.truth(state.model_version, variant, items),
        generator=lambda: ctx.generator, prompter=ctx.trainer.student.prompter,
        judge_context=ctx.judge_context)
    for name, found in run_checks(view, ctx.config.checks).items():
        ctx.store.write(found)
        if found:
            rate = sum(c.violation > VIOLATION for c in found) / len(found)
            ctx.say(f"round {state.round}: {name} checked {len(found)}, "
                    f"{rate:.0%} violate by more than {VIOLATION}")
    return {}


def _mistake_estimates(ctx: Context, state: CampaignState) -> list[Metric]:
    """What the student believes of its supervisor: per category, the share of the pool's
    weak labels that are right, with an interval (the mistake model; nothing otherwise)."""
    weak = ctx.labels("weak")
    rows = [(k, weak[i.id].p1) for k, i in zip(ctx.pool_rows, ctx.pool) if i.id in weak]
    if not rows:
        return []
    est = ctx.trainer.supervisor_accuracy(state.model_version, "train",
                                          np.array([k for k, _ in rows]),
                                          np.array([p > 0.5 for _, p in rows], int))
    # and what the zero-gold head trusted where: each label-free source's accuracy
    sources = ctx.trainer.source_accuracy(state.model_version)
    return [Metric(campaign_id=ctx.campaign_id, round=state.round, name=f"{name}:{region}",
                   scope=MISTAKES, value=v)
            for region, vals in est.items()
            for name, v in zip(("supervisor_acc", "supervisor_acc_lo", "supervisor_acc_hi"), vals)
            ] + [Metric(campaign_id=ctx.campaign_id, round=state.round,
                        name=f"{name}:{source}:{region}", scope=SOURCES, value=v)
                 for region, by_source in sources.items() for source, vals in by_source.items()
                 for name, v in zip(("source_acc", "source_acc_lo", "source_acc_hi"), vals)]


def _mean(x: np.ndarray) -> float | None:
    return None if len(x) == 0 or np.isnan(x).all() else float(np.nanmean(x))


def baseline(ctx: Context, n_gold: int) -> bool:
    """Whether this round also fits the gold-only baseline: probe mode (cheap there),
    another method, and some gold bought."""
    train = ctx.config.train
    return train.mode == "probe" and train.method != "gold-only" and n_gold > 0


def _predictions(ctx: Context, state: CampaignState, items, p_weak, p_true,
                 version: str | None = None, heads=("weak", "true")) -> list[Prediction]:
    version = version or state.model_version or "prompted"
    return [Prediction(campaign_id=ctx.campaign_id, round=state.round, item_id=i.id, head=h,
                       prob=float(np.clip(p, 0, 1)), model_version=version)
            for i, pw, pt in zip(items, p_weak, p_true) for h, p in (("weak", pw), ("true", pt))
            if h in heads]
