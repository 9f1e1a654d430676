"""The audit's figures, read from the DuckDB log alone: no model runs, nothing is
written. Accuracy is evaluation, so this module reads gold (as agent/evaluate.py does).

A *method* is one set of hard test predictions: each round of the campaign, and
each run of its reference experiment (weak supervisor, zero-shot, naive and
confidence W2S, gold ceiling). Every figure is a function of methods, gold and
the supervisor's test labels, so the same code serves rounds, categories and
comparisons.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import numpy as np

from w2s.agent.config import CampaignConfig, logged_config
from w2s.agent.context import MISTAKES, SOURCES
from w2s.agent.contrast.report import SupervisorReport, reactions
from w2s.checks import VIOLATION
from w2s.agent.training.trainers import OTHER
from w2s.agent.evaluate import pgr_ci
from w2s.agent.experiment import CEILING, WEAK, find_reference, reference_config
from w2s.store.gold import read_gold
from w2s.store import Campaign, Store, queries, versions
from w2s.store import Purpose

N_BOOT = 1000


class AuditError(ValueError):
    pass


@dataclass
class TestSet:
    ids: list[str]
    categories: np.ndarray
    held_out: np.ndarray  # bool: category nobody supervised
    gold: np.ndarray  # 0/1, -1 where unknown
    supervisor: np.ndarray  # the weak supervisor's label, -1 where unknown


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 6)


def _rate(hits: np.ndarray) -> float | None:
    return _num(hits.mean()) if len(hits) else None


def _load(store: Store, campaign_id: str) -> CampaignConfig:
    found = store.select(Campaign, "id = ?", [campaign_id])
    if not found:
        raise AuditError(f"no campaign {campaign_id!r} in the log; known: "
                         f"{', '.join(queries.campaign_ids(store)) or 'none'}")
    if found[0].kind == "experiment":
        raise AuditError(f"{campaign_id} is an experiment run; audit the campaign that uses it")
    return logged_config(found[0].config)


def _test_predictions(store: Store, run_id: str, version: str) -> dict[str, tuple[float, float]]:
    """item -> (P(weak label 1), P(true label 1)) of one model version on test items."""
    out: dict[str, list[float]] = {}
    for item, head, prob in queries.test_predictions(store, run_id, version):
        out.setdefault(item, [math.nan, math.nan])[head == "true"] = prob
    return {k: (v[0], v[1]) for k, v in out.items()}


def _test_set(store: Store, config: CampaignConfig, ids: list[str], reference: str | None) -> TestSet:
    rows = queries.categories(store, ids)
    gold = read_gold(store, item_ids=ids)
    sup = (queries.labels_of_purpose(store, reference, config.seed, Purpose.EVALUATION)
           if reference else {})
    cats = np.array([rows[i] for i in ids])
    return TestSet(ids, cats, np.isin(cats, config.held_out),
                   np.array([gold.get(i, -1) for i in ids]),
                   np.array([sup.get(i, -1) for i in ids]))


def _hard(probs: dict[str, tuple[float, float]], ids: list[str], head: int = 1) -> np.ndarray:
    """0/1 per item, -1 where that head has no prediction."""
    return np.array([-1 if i not in probs or math.isnan(probs[i][head])
                     else int(probs[i][head] > 0.5) for i in ids])


def _scores(pred: np.ndarray, test: TestSet, mask: np.ndarray,
            floor: np.ndarray | None, ceiling: np.ndarray | None) -> dict:
    """Accuracy, PGR with a bootstrap CI, and agreement with the supervisor on `mask`."""
    m = mask & (test.gold >= 0) & (pred >= 0)
    out = {"n": int(m.sum()), "acc": _rate((pred[m] == test.gold[m]).astype(float))}
    if floor is not None and ceiling is not None:
        both = m & (floor >= 0) & (ceiling >= 0)
        g = test.gold[both]
        point, lo, hi = pgr_ci((floor[both] == g).astype(float), (pred[both] == g).astype(float),
                               (ceiling[both] == g).astype(float), N_BOOT)
        out.update(pgr=_num(point), pgr_lo=_num(lo), pgr_hi=_num(hi))
    s = m & (test.supervisor >= 0)
    right = s & (test.supervisor == test.gold)
    agree = pred == test.supervisor
    differ = s & ~agree
    # misfit (Charikar et al. 2024): where the two differ exactly one is right, so the
    # gain over the supervisor is misfit * (2 * right_where_differ - 1)
    out.update(agreement=_rate(agree[s].astype(float)),
               agreement_supervisor_right=_rate(agree[right].astype(float)),
               agreement_supervisor_wrong=_rate(agree[s & ~right].astype(float)),
               misfit=_rate((~agree[s]).astype(float)),
               right_where_differ=_rate((pred[differ] == test.gold[differ]).astype(float)))
    return out


def _reference_methods(store: Store, reference: str, seed: int, ids: list[str],
                       test: TestSet) -> dict[str, np.ndarray]:
    methods = {WEAK: test.supervisor}
    zero = _test_predictions(store, reference, versions.zero_shot(seed))
    if zero:
        methods[versions.ZERO_SHOT] = _hard(zero, ids)
    for round, version, _, _, details in queries.training_rounds(store, reference):
        if round != seed:
            continue
        methods[json.loads(details)["method"]] = _hard(_test_predictions(store, reference, version), ids)
    return methods


def _spend(store: Store, campaign_id: str, round: int) -> dict:
    """Labels and cost per oracle up to a round (the weak model's own training set aside)."""
    out = {}
    for oracle, bulk, n, cost in queries.spend(store, campaign_id, round):
        entry = out.setdefault(oracle, {"labels": 0, "cost": 0.0, "gold": 0})
        entry["labels"] += n
        entry["cost"] = _num(entry["cost"] + cost)
        if not bulk:
            entry["gold"] += n
    return out


def _checks(store: Store, campaign_id: str, version: str) -> dict:
    return {name: {"n": n, "violation_rate": _num(rate), "mean_violation": _num(mean)}
            for name, n, rate, mean in queries.check_summary(store, campaign_id, version,
                                                             VIOLATION)}


def audit_campaign(store: Store, campaign_id: str) -> dict:
    """Every figure of one campaign, as plain JSON-ready data."""
    config = _load(store, campaign_id)
    ref_config = reference_config(config)
    reference = find_reference(store, ref_config) if ref_config else None
    rounds = [r[:4] for r in queries.training_rounds(store, campaign_id)]
    preds = {r: _test_predictions(store, campaign_id, v) for r, v, _, _ in rounds}
    rounds = [r for r in rounds if preds[r[0]]]  # a round killed before its evaluation
    if not rounds:
        raise AuditError(f"{campaign_id}: no evaluated round in the log yet")
    ids = sorted(preds[rounds[0][0]])
    test = _test_set(store, config, ids, reference)
    methods = _reference_methods(store, reference, config.seed, ids, test) if reference else {}
    floor, ceiling = methods.get(WEAK), methods.get(CEILING)
    supervised = ~test.held_out
    logged = {(r, n, s): v for r, n, s, v in queries.metrics(store, campaign_id)}

    per_round = []
    for r, version, n_weak, n_gold in rounds:
        true_head, weak_head = _hard(preds[r], ids), _hard(preds[r], ids, head=0)
        spend = _spend(store, campaign_id, r)
        row = {"round": r, "model_version": version, "n_weak": n_weak, "n_gold": n_gold,
               "gold_labels": sum(o["gold"] for o in spend.values()),
               "cost": _num(sum(o["cost"] for o in spend.values())),
               **_scores(true_head, test, supervised, floor, ceiling),
               "acc_weak_head": _scores(weak_head, test, supervised, None, None)["acc"],
               "acc_held_out": (_scores(true_head, test, test.held_out, floor, ceiling)["acc"]
                                if test.held_out.any() else None),
               "spend": spend, "checks": _checks(store, campaign_id, version),
               "logged_acc": logged.get((r, "acc:true", "test")),
               # the same student on this round's gold alone (probe mode)
               "acc_gold_only": _scores(_hard(_test_predictions(
                   store, campaign_id, versions.gold_only(version)), ids), test, supervised,
                   None, None)["acc"]}
        per_round.append(row)
    final = per_round[-1]
    methods["campaign r0 (no gold)"] = _hard(preds[rounds[0][0]], ids)
    if final["round"] != rounds[0][0]:
        methods[f"campaign r{final['round']}"] = _hard(preds[final["round"]], ids)
        gold_only = _test_predictions(store, campaign_id, versions.gold_only(final["model_version"]))
        if gold_only:
            methods[f"gold-only r{final['round']}"] = _hard(gold_only, ids)

    grid = []
    for cat in sorted(set(test.categories)):
        mask = test.categories == cat
        grid.append({"category": cat, "held_out": bool(test.held_out[mask][0]),
                     "n": int(mask.sum()),
                     "methods": {m: _scores(p, test, mask, floor, ceiling) for m, p in methods.items()}})
    for name, mask in (("supervised (all)", supervised), ("held out (all)", test.held_out)):
        if mask.any() and test.held_out.any():
            grid.append({"category": name, "held_out": name.startswith("held"),
                         "n": int(mask.sum()),
                         "methods": {m: _scores(p, test, mask, floor, ceiling)
                                     for m, p in methods.items()}})

    pgrs = [(r["gold_labels"], r.get("pgr")) for r in per_round]
    return {
        "campaign": campaign_id, "dataset": config.dataset, "seed": config.seed,
        "status": store.select(Campaign, "id = ?", [campaign_id])[0].status,
        "strategy": config.strategy.name, "loss": config.train.loss,
        "checks": [c.name for c in config.checks], "consistency": config.train.consistency,
        "held_out": config.held_out, "reference": reference,
        "oracles": [{"name": o.name, "role": o.role, "cost": o.cost, "budget": o.budget}
                    for o in config.oracles],
        "n_test": int(supervised.sum()), "n_test_held_out": int(test.held_out.sum()),
        "rounds": per_round,
        "label_efficiency": {
            "gold_to_half_gap": next((g for g, p in pgrs if p is not None and p >= 0.5), None),
            "acc_gain_per_100_gold": (_num(100 * (final["acc"] - per_round[0]["acc"])
                                           / final["gold_labels"])
                                      if final["gold_labels"] and final["acc"] is not None
                                      and per_round[0]["acc"] is not None else None)},
        "methods": {m: _scores(p, test, supervised, floor, ceiling) for m, p in methods.items()},
        "categories": grid,
        "mistakes": _mistakes(logged, final["round"], test),
        "sources": _sources(logged, rounds[0][0], test, methods.get(versions.ZERO_SHOT)),
        "supervisor": _supervisor(store, campaign_id),
    }


def _supervisor(store: Store, campaign_id: str) -> dict | None:
    """The supervisor report: how the weak supervisor reacted to the student's contrast
    items (None if the campaign wrote none)."""
    counts = queries.contrast_counts(store, campaign_id)
    if not counts:
        return None
    report = SupervisorReport.of(reactions(store, campaign_id))
    top = report.top_sensitivity()

    def row(r) -> dict:
        return {"edit": r.edit, "flips": r.flips, "region": r.region, "n": r.n,
                "revealed": r.revealed, "rate": r.rate, "lo": r.low, "hi": r.high,
                "examples": [{"parent": e.parent_text, "edit": e.edit_text,
                              "parent_label": e.parent_label, "edit_label": e.edit_label}
                             for e in r.examples]}

    return {"top": top and top.edit, "rows": [row(r) for r in report.rows],
            "written": [{"edit": e, "flips": bool(f), "status": s, "n": n}
                        for e, f, s, n in counts]}


def _mistakes(logged: dict, round: int, test: TestSet) -> list[dict]:
    """The mistake model's estimate of the supervisor's accuracy per category (on the
    pool, at `round`) beside its accuracy on the test items (evaluation gold)."""
    est: dict[str, dict[str, float]] = {}
    for (r, name, scope), v in logged.items():
        if r == round and scope == MISTAKES:
            kind, region = name.split(":", 1)
            est.setdefault(region, {})[kind] = v
    out = []
    named = [r for r in est if r != OTHER]
    for region, e in sorted(est.items()):
        inside = (np.isin(test.categories, named, invert=True) if region == OTHER
                  else test.categories == region)
        m = inside & (test.supervisor >= 0) & (test.gold >= 0)
        out.append({"region": region, "estimate": e.get("supervisor_acc"),
                    "lo": e.get("supervisor_acc_lo"), "hi": e.get("supervisor_acc_hi"),
                    "true": _rate((test.supervisor[m] == test.gold[m]).astype(float)),
                    "n_test": int(m.sum())})
    return out


def _sources(logged: dict, round: int, test: TestSet, zero_shot: np.ndarray | None) -> list[dict]:
    """What the zero-gold head trusted where: per category, the label model's estimate
    of the supervisor's and of the zero-shot answers' accuracy on the pool (round 0,
    no gold), beside their accuracy on the test items (evaluation gold)."""
    est: dict[str, dict[str, dict[str, float]]] = {}
    for (r, name, scope), v in logged.items():
        if r == round and scope == SOURCES:
            kind, source, region = name.split(":", 2)
            est.setdefault(region, {}).setdefault(source, {})[kind] = v
    named = [r for r in est if r != OTHER]
    said = {"supervisor": test.supervisor, "zero-shot": zero_shot}
    out = []
    for region, by_source in sorted(est.items()):
        inside = (np.isin(test.categories, named, invert=True) if region == OTHER
                  else test.categories == region)
        if region == OTHER and not inside.any():
            continue  # the label model's slot for items of no training category: none here
        row = {"region": region, "n_test": int(inside.sum())}
        for source, answers in said.items():
            e = by_source.get(source, {})
            m = inside & (test.gold >= 0) & (answers >= 0 if answers is not None else False)
            row[source] = {"estimate": e.get("source_acc"), "lo": e.get("source_acc_lo"),
                           "hi": e.get("source_acc_hi"),
                           "true": (None if answers is None else
                                    _rate((answers[m] == test.gold[m]).astype(float)))}
        out.append(row)
    return out


def compare_campaigns(store: Store, campaign_ids: list[str]) -> dict:
    return {"campaigns": [audit_campaign(store, c) for c in campaign_ids]}
