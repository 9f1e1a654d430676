"""Named reads (and the few bulk updates) over the log: every SQL statement the rest
of w2s runs is here, by what it asks, so the tables' unwritten rules live in one
place. Gold is not: it is read through gold.py only.

A query's purpose says why it was asked (records.Purpose); a run's kind whether it is
a campaign or an experiment."""

from __future__ import annotations

from typing import Any

from .db import Store
from .records import Contrast, Purpose


__all__ = ["Purpose"]  # and every function below


# -- labels and what they cost -------------------------------------------------

def answers(store: Store, query_ids: list[str]) -> dict[str, tuple[int, float | None]]:
    """query id -> (value, confidence) of the labels given for these queries."""
    return {q: (v, c) for q, v, c in store.sql(
        "SELECT query_id, value, confidence FROM labels WHERE list_contains(?, query_id)",
        [query_ids])}


def skipped(store: Store, query_ids: list[str]) -> set[str]:
    return {q for (q,) in store.sql(
        "SELECT id FROM queries WHERE list_contains(?, id) AND status = 'skipped'", [query_ids])}


def delete_label(store: Store, query_id: str) -> None:
    store.sql("DELETE FROM labels WHERE query_id = ?", [query_id])


def campaign_labels(store: Store, campaign_id: str, weak: bool) -> list[tuple[str, int, Any]]:
    """(item id, value, confidence) of a campaign's labels in order: the bulk weak labels,
    or (weak False) every bought one."""
    return store.sql(
        "SELECT q.item_id, l.value, l.confidence FROM queries q JOIN labels l "
        "ON l.query_id = q.id WHERE q.campaign_id = ? AND q.purpose = ? ORDER BY q.round, q.id",
        [campaign_id, Purpose.BULK if weak else Purpose.PURCHASE])


def labels_of_purpose(store: Store, run_id: str, round: int, purpose: Purpose) -> dict[str, int]:
    """item id -> label value of one run's round (an experiment's seed) and purpose."""
    return dict(store.sql(
        "SELECT q.item_id, l.value FROM queries q JOIN labels l ON l.query_id = q.id "
        "WHERE q.campaign_id = ? AND q.round = ? AND q.purpose = ?", [run_id, round, purpose]))


def oracle_items(store: Store, campaign_id: str, oracle: str) -> list[str]:
    """Items an oracle has labeled in a campaign."""
    return [i for (i,) in store.sql(
        "SELECT q.item_id FROM queries q JOIN labels l ON l.query_id = q.id "
        "WHERE q.campaign_id = ? AND q.oracle = ?", [campaign_id, oracle])]


def gold_spent(store: Store, campaign_id: str, oracle: str, before_round: int) -> int:
    """Labels an oracle sold a campaign in earlier rounds."""
    return store.sql(
        "SELECT count(*) FROM queries q JOIN labels l ON l.query_id = q.id "
        "WHERE q.campaign_id = ? AND q.oracle = ? AND q.round < ? AND q.purpose = ?",
        [campaign_id, oracle, before_round, Purpose.PURCHASE])[0][0]


def cost(store: Store, campaign_id: str) -> float:
    """What a campaign's labels cost (a weak model's own training set aside)."""
    return float(store.sql(
        "SELECT coalesce(sum(q.cost), 0) FROM queries q JOIN labels l ON l.query_id = q.id "
        "WHERE q.campaign_id = ? AND q.purpose <> ?", [campaign_id, Purpose.WEAK_TRAINING])[0][0])


def spend(store: Store, campaign_id: str, round: int) -> list[tuple[str, bool, int, float]]:
    """(oracle, bulk?, labels, cost) up to a round (a weak model's own training set aside)."""
    return store.sql(
        "SELECT q.oracle, q.purpose = ? AS bulk, count(*), sum(q.cost) FROM queries q "
        "JOIN labels l ON l.query_id = q.id WHERE q.campaign_id = ? AND q.round <= ? "
        "AND q.purpose <> ? GROUP BY ALL ORDER BY 1, 2",
        [Purpose.BULK, campaign_id, round, Purpose.WEAK_TRAINING])


def queries_per_oracle(store: Store, campaign_id: str) -> list[tuple]:
    """(oracle, strategy or purpose, labels, pending, skipped, cost of the labels)."""
    return store.sql(
        "SELECT q.oracle, q.strategy, count(l.query_id), count(*) FILTER (q.status = 'pending'), "
        "count(*) FILTER (q.status = 'skipped'), "
        "coalesce(sum(q.cost) FILTER (l.query_id IS NOT NULL), 0) "
        "FROM queries q LEFT JOIN labels l ON l.query_id = q.id WHERE q.campaign_id = ? "
        "GROUP BY ALL ORDER BY ALL", [campaign_id])


# -- predictions -----------------------------------------------------------------

def latest_prediction(store: Store, campaign_id: str, item_id: str) -> dict[str, float]:
    """head -> the latest round's P(label 1) for one item."""
    return dict(store.sql(
        "SELECT head, arg_max(prob, round) FROM predictions WHERE campaign_id = ? "
        "AND item_id = ? GROUP BY head", [campaign_id, item_id]))


def round_predictions(store: Store, campaign_id: str, round: int,
                      version: str) -> dict[tuple[str, str], float]:
    """(item id, head) -> P(label 1) of one model version in one round."""
    return {(i, h): p for i, h, p in store.sql(
        "SELECT item_id, head, prob FROM predictions WHERE campaign_id = ? AND round = ? "
        "AND model_version = ?", [campaign_id, round, version])}


def test_predictions(store: Store, run_id: str, version: str) -> list[tuple[str, str, float]]:
    """(item id, head, P(label 1)) of one model version on test items."""
    return store.sql(
        "SELECT p.item_id, p.head, p.prob FROM predictions p JOIN items i ON i.id = p.item_id "
        "WHERE p.campaign_id = ? AND p.model_version = ? AND i.split = 'test'", [run_id, version])


# -- checks ------------------------------------------------------------------------

def check_scores(store: Store, campaign_id: str, round: int) -> list[tuple[str, str, float]]:
    """(check, item id, its latest violation up to a round)."""
    return store.sql(
        "SELECT check_name, item_id, arg_max(violation, round) FROM ("
        "  SELECT check_name, unnest(item_ids) AS item_id, violation, round FROM checks"
        "  WHERE campaign_id = ? AND round <= ?) GROUP BY ALL", [campaign_id, round])


def check_summary(store: Store, campaign_id: str, version: str,
                  threshold: float) -> list[tuple[str, int, float, float]]:
    """(check, checked, violation rate above threshold, mean violation) of one model."""
    return store.sql(
        "SELECT check_name, count(*), avg((violation > ?)::DOUBLE), avg(violation) "
        "FROM checks WHERE campaign_id = ? AND model_version = ? GROUP BY 1 ORDER BY 1",
        [threshold, campaign_id, version])


def checks_per_round(store: Store, campaign_id: str,
                     threshold: float) -> list[tuple[int, str, int, float, float]]:
    """(round, check, checked, mean violation, violation rate above threshold)."""
    return store.sql(
        "SELECT round, check_name, count(*), avg(violation), avg((violation > ?)::INT) "
        "FROM checks WHERE campaign_id = ? GROUP BY ALL ORDER BY ALL", [threshold, campaign_id])


# -- contrasts: texts the student wrote to test its supervisor ------------------------

def contrast_ids(store: Store, campaign_id: str, round: int) -> set[str]:
    """Ids of the contrasts already written in a campaign's round (valid or not)."""
    return {c for (c,) in store.sql("SELECT id FROM contrasts WHERE campaign_id = ? "
                                    "AND round = ?", [campaign_id, round])}


def contrasts(store: Store, campaign_id: str, round: int | None = None,
              valid: bool = False) -> list[Contrast]:
    """The contrasts of a campaign (of one round, or all; only the valid ones, or all)."""
    where = "campaign_id = ?" + (" AND round = ?" if round is not None else "") + (
        " AND status = 'valid'" if valid else "")
    return store.select(Contrast, where, [campaign_id] + ([round] if round is not None else []))


def contrast_parents(store: Store, campaign_id: str, before_round: int) -> set[str]:
    """Pool items edited in experiments of earlier rounds (valid edits or not)."""
    return {p for (p,) in store.sql("SELECT DISTINCT parent_id FROM contrasts WHERE "
                                    "campaign_id = ? AND round < ?", [campaign_id, before_round])}


def contrast_reactions(store: Store, campaign_id: str) -> list[tuple]:
    """The weak supervisor's reactions to the valid contrasts: (contrast id, round,
    parent id, edit, flips, category, parent's weak label, edit's weak label, parent
    text, edit text), each weak label from the same oracle. The parent's is its bulk
    label; contrasts not yet labeled are left out."""
    return store.sql(
        "SELECT c.id, c.round, c.parent_id, c.edit, c.flips, i.category, lp.value, le.value, "
        "i.text, c.text FROM contrasts c JOIN items i ON i.id = c.parent_id "
        "JOIN queries qe ON qe.campaign_id = c.campaign_id AND qe.item_id = c.id "
        "AND qe.purpose = ? JOIN labels le ON le.query_id = qe.id "
        "JOIN queries qp ON qp.campaign_id = c.campaign_id AND qp.item_id = c.parent_id "
        "AND qp.purpose = ? AND qp.oracle = qe.oracle JOIN labels lp ON lp.query_id = qp.id "
        "WHERE c.campaign_id = ? AND c.status = 'valid' ORDER BY c.round, c.edit, c.id",
        [Purpose.CONTRAST, Purpose.BULK, campaign_id])


def contrast_counts(store: Store, campaign_id: str) -> list[tuple[str, bool, str, int]]:
    """(edit, flips, status, contrasts) of a campaign, with why rejected ones were."""
    return store.sql(
        "SELECT edit, flips, CASE WHEN status = 'valid' THEN 'valid' ELSE reason END, "
        "count(*) FROM contrasts WHERE campaign_id = ? GROUP BY ALL ORDER BY ALL",
        [campaign_id])


# -- runs, rounds and metrics --------------------------------------------------------

def set_status(store: Store, run_id: str, status: str) -> None:
    store.sql("UPDATE campaigns SET status = ? WHERE id = ?", [status, run_id])


def finished_experiments(store: Store) -> list[tuple[str, str]]:
    """(id, config JSON) of finished experiment runs, newest first."""
    return store.sql("SELECT id, config FROM campaigns WHERE kind = 'experiment' "
                     "AND status = 'done' ORDER BY created_at DESC")


def campaign_ids(store: Store) -> list[str]:
    """Ids of the campaigns (experiment runs aside), oldest first."""
    return [c for (c,) in store.sql("SELECT id FROM campaigns WHERE kind = 'campaign' "
                                    "ORDER BY created_at")]


def metrics(store: Store, campaign_id: str) -> list[tuple[int, str, str, float]]:
    """(round, name, scope, value), by round."""
    return store.sql("SELECT round, name, scope, value FROM metrics WHERE campaign_id = ? "
                     "ORDER BY round", [campaign_id])


def progress(store: Store, campaign_id: str) -> tuple[int, float]:
    """(last round, gold labels spent) from a campaign's metrics."""
    return store.sql(
        "SELECT coalesce(max(round), 0), coalesce(max(value) FILTER (name = 'gold_labels'), 0) "
        "FROM metrics WHERE campaign_id = ?", [campaign_id])[0]


def training_rounds(store: Store, run_id: str) -> list[tuple[int, str, int, int, str]]:
    """(round, model version, weak labels, gold labels, details JSON), by round and version."""
    return store.sql("SELECT round, model_version, n_weak, n_gold, details FROM training_rounds "
                     "WHERE campaign_id = ? ORDER BY round, model_version", [run_id])


# -- datasets and the workspace ------------------------------------------------------

def categories(store: Store, item_ids: list[str]) -> dict[str, str]:
    """item id -> category."""
    return dict(store.sql("SELECT id, category FROM items WHERE id IN (SELECT unnest(?))",
                          [item_ids]))


def dataset_summary(store: Store) -> list[tuple[str, int, int, int, str]]:
    """(name, items, splits, categories, description) per dataset."""
    return store.sql("""
        SELECT d.name, count(i.id), count(DISTINCT i.split), count(DISTINCT i.category),
               d.description
        FROM datasets d LEFT JOIN items i ON i.dataset = d.name
        GROUP BY d.name, d.description ORDER BY d.name""")


def tables(store: Store) -> list[str]:
    return [t for (t,) in store.sql(
        "SELECT table_name FROM information_schema.tables ORDER BY table_name")]


def row_counts(store: Store) -> dict[str, int]:
    """Rows per table, gold aside (count it through gold.py)."""
    return {t: store.sql(f'SELECT count(*) FROM "{t}"')[0][0] for t in tables(store) if t != "gold"}
