"""The audit on a small hand-built DuckDB log whose figures are known by hand."""

import json
from datetime import datetime

import pytest
from typer.testing import CliRunner

from w2s.agent.config import CampaignConfig
from w2s.agent.experiment import reference_config
from w2s.audit import AuditError, audit_campaign, compare_campaigns, write_campaign_report
from w2s.cli.main import app
from w2s.store import (Campaign, Check, Dataset, Gold, Item, Label, Metric, Prediction, Query,
                       Store, TrainingRound)

GOLD = [1, 0, 1, 0, 1, 0, 1, 0]  # t1..t6 in category a (supervised), t7..t8 in b (held out)
SUPERVISOR = [1, 1, 1, 0, 0, 0, 0, 0]  # right on a: t1 t3 t4 t6 (4/6); on b: t8 (1/2)
EXPERIMENT = {
    "ceiling": [1, 0, 1, 0, 1, 1, 1, 0],  # a 5/6, b 2/2
    "w2s-xent": [1, 1, 1, 0, 0, 0, 0, 0],  # copies the supervisor
}
ZERO_SHOT = [0] * 8  # a 3/6, b 1/2
CAMPAIGN = {0: [1, 1, 1, 0, 0, 0, 0, 0],  # a 4/6, b 1/2
            1: [1, 0, 1, 0, 0, 0, 1, 0]}  # a 5/6, b 2/2
T0 = datetime(2026, 1, 1)


def _preds(run, round, version, hard, head="true", ids=None):
    ids = ids or [f"toy:t{k + 1}" for k in range(len(hard))]
    return [Prediction(campaign_id=run, round=round, item_id=i, head=head,
                       prob=0.9 if h else 0.1, model_version=version) for i, h in zip(ids, hard)]


def _label(run, round, item, oracle, strategy, value, cost):
    q = Query(campaign_id=run, round=round, item_id=item, oracle=oracle, strategy=strategy,
              cost=cost, status="answered")
    return [q, Label(query_id=q.id, oracle=oracle, value=value)]


@pytest.fixture
def log(tmp_path):
    store = Store.in_workspace(tmp_path)
    tests = [Item(id=f"toy:t{k + 1}", dataset="toy", split="test", category="a" if k < 6 else "b",
                  text=f"test {k}") for k in range(8)]
    pool = [Item(id=f"toy:p{k}", dataset="toy", split="train", category="a", text=f"p {k}")
            for k in range(4)]
    store.import_dataset(Dataset(name="toy", labels=["no", "yes"], question="?"), [*tests, *pool],
                         [Gold(item_id=i.id, label=g) for i, g in zip(tests, GOLD)]
                         + [Gold(item_id=p.id, label=1) for p in pool])
    config = CampaignConfig(dataset="toy", held_out=["b"])
    exp = reference_config(config)
    rec = [Campaign(id="exp-toy-1", dataset="toy", kind="experiment",
                    config=exp.model_dump(mode="json"), status="done", created_at=T0),
           Campaign(id="c1", dataset="toy", config=config.model_dump(mode="json"), status="done",
                    created_at=T0)]
    for t, v in zip(tests, SUPERVISOR):
        rec += _label("exp-toy-1", 0, t.id, "weak:tfidf", "evaluation", v, 0.0)
    for method, hard in EXPERIMENT.items():
        version = f"probe:{method}:seed0"
        rec += [TrainingRound(campaign_id="exp-toy-1", round=0, loss="xent", n_weak=0, n_gold=0,
                              model_version=version, started_at=T0, details={"method": method}),
                *_preds("exp-toy-1", 0, version, hard)]
    rec += _preds("exp-toy-1", 0, "zero-shot:seed0", ZERO_SHOT)
    for r, hard in CAMPAIGN.items():
        version = f"c1:r{r}"
        rec += [TrainingRound(campaign_id="c1", round=r, loss="logconf", n_weak=4, n_gold=2 * r,
                              model_version=version, started_at=T0),
                *_preds("c1", r, version, hard), *_preds("c1", r, version, SUPERVISOR, "weak"),
                Metric(campaign_id="c1", round=r, name="acc:true", scope="test",
                       value=(4 + r) / 6)]
    for p in pool:  # bulk weak labels, 0.1 each
        rec += _label("c1", 0, p.id, "weak:tfidf", "bulk", 1, 0.1)
    rec += _label("c1", 0, "toy:p0", "ground-truth", "weak-training", 1, 1.0)  # not campaign spend
    rec += _label("c1", 1, "toy:p1", "ground-truth", "entropy", 1, 1.0)
    rec += _label("c1", 1, "toy:p2", "ground-truth", "entropy", 1, 1.0)
    rec.append(Query(campaign_id="c1", round=1, item_id="toy:p3", oracle="ground-truth",
                     strategy="entropy", cost=1.0))  # asked, never answered: not spent
    rec += [Check(campaign_id="c1", round=1, check_name="negation",
                  item_ids=[f"toy:p{k}"], violation=v, model_version="c1:r0")
            for k, v in ((1, 0.3), (2, 0.05))]
    store.write(rec)
    yield store, tmp_path
    store.close()


def test_figures_match_the_hand_computed_values(log):
    store, _ = log
    a = audit_campaign(store, "c1")
    assert a["reference"] == "exp-toy-1" and a["n_test"] == 6 and a["n_test_held_out"] == 2
    r0, r1 = a["rounds"]
    assert r0["acc"] == pytest.approx(4 / 6) and r1["acc"] == pytest.approx(5 / 6)
    assert r0["acc"] == pytest.approx(r0["logged_acc"]) and r1["acc"] == pytest.approx(r1["logged_acc"])
    assert r0["acc_held_out"] == 0.5 and r1["acc_held_out"] == 1.0
    assert r0["pgr"] == 0.0 and r1["pgr"] == pytest.approx(1.0)
    assert r1["pgr_lo"] is None and r1["pgr_hi"] is None  # a one-item gap is not surely one
    assert (r0["agreement"], r0["agreement_supervisor_right"], r0["agreement_supervisor_wrong"]) \
        == (1.0, 1.0, 1.0)
    assert r1["agreement"] == pytest.approx(5 / 6)
    assert (r1["agreement_supervisor_right"], r1["agreement_supervisor_wrong"]) == (1.0, 0.5)
    # misfit: where student and supervisor differ one is right; here the student, so the
    # gain (5/6 - 4/6) is all of the misfit
    assert (r0["misfit"], r0["right_where_differ"]) == (0.0, None)
    assert r1["misfit"] == pytest.approx(1 / 6, abs=1e-6) and r1["right_where_differ"] == 1.0
    assert r1["acc"] - r0["acc"] == pytest.approx(
        r1["misfit"] * (2 * r1["right_where_differ"] - 1), abs=1e-5)
    assert (r0["gold_labels"], r0["cost"]) == (0, 0.4)
    assert (r1["gold_labels"], r1["cost"]) == (2, 2.4)
    assert r1["spend"] == {"ground-truth": {"labels": 2, "gold": 2, "cost": 2.0},
                           "weak:tfidf": {"labels": 4, "gold": 0, "cost": 0.4}}
    assert r0["checks"] == {"negation": {"n": 2, "violation_rate": 0.5, "mean_violation": 0.175}}
    assert r1["checks"] == {}
    assert a["label_efficiency"] == {"gold_to_half_gap": 2, "acc_gain_per_100_gold":
                                     pytest.approx(100 * (1 / 6) / 2, abs=1e-4)}
    m = a["methods"]
    assert m["weak"]["acc"] == pytest.approx(4 / 6) and m["weak"]["pgr"] == 0.0
    assert m["ceiling"]["acc"] == pytest.approx(5 / 6) and m["ceiling"]["pgr"] == 1.0
    assert m["zero-shot"]["acc"] == 0.5 and m["zero-shot"]["pgr"] == pytest.approx(-1.0)
    assert m["w2s-xent"]["pgr"] == 0.0 and m["w2s-xent"]["agreement_supervisor_wrong"] == 1.0


def test_held_out_grid(log):
    store, _ = log
    grid = {c["category"]: c for c in audit_campaign(store, "c1")["categories"]}
    assert list(grid) == ["a", "b", "supervised (all)", "held out (all)"]
    b = grid["b"]
    assert b["held_out"] and b["n"] == 2 and not grid["a"]["held_out"]
    assert b["methods"]["weak"]["acc"] == 0.5 and b["methods"]["ceiling"]["acc"] == 1.0
    assert b["methods"]["campaign r1"]["acc"] == 1.0 and b["methods"]["campaign r1"]["pgr"] == 1.0
    assert b["methods"]["campaign r0 (no gold)"]["pgr"] == 0.0
    assert b["methods"]["zero-shot"]["pgr"] == 0.0
    assert grid["held out (all)"]["methods"]["campaign r1"]["acc"] == 1.0


def test_audit_is_reproducible_and_writes_the_report(log, tmp_path):
    store, _ = log
    first, second = audit_campaign(store, "c1"), audit_campaign(store, "c1")
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    files = write_campaign_report(first, tmp_path / "out")
    for name in ("label_efficiency", "pgr_by_category", "agreement"):
        assert files[name].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = files["report"].read_text()
    assert page.count("data:image/png;base64,") == 3 and "held-out category grid" in page
    assert "http://" not in page and "https://" not in page  # self-contained
    assert len(compare_campaigns(store, ["c1", "c1"])["campaigns"]) == 2


def test_unknown_campaign_and_experiment_ids_are_refused(log):
    store, _ = log
    with pytest.raises(AuditError, match="no campaign 'nope'.*known: c1"):
        audit_campaign(store, "nope")
    with pytest.raises(AuditError, match="experiment run"):
        audit_campaign(store, "exp-toy-1")


def test_cli_json_tables_and_read_only_sql(log):
    store, ws = log
    store.close()  # the CLI opens the file read-only itself
    runner = CliRunner()
    base = ["--workspace", str(ws), "audit"]
    out = runner.invoke(app, [*base, "c1", "--json"])
    assert out.exit_code == 0, out.output
    assert json.loads(out.output)["rounds"][1]["pgr"] == pytest.approx(1.0)
    shown = runner.invoke(app, [*base, "c1", "--out", str(ws / "report")])
    assert shown.exit_code == 0, shown.output
    assert "held-out category grid" in shown.output and (ws / "report" / "report.html").exists()
    both = runner.invoke(app, [*base, "compare", "c1", "c1", "--json"])
    assert both.exit_code == 0 and len(json.loads(both.output)["campaigns"]) == 2
    rows = runner.invoke(app, [*base, "sql", "SELECT count(*) AS n FROM labels", "--json"])
    assert rows.exit_code == 0 and json.loads(rows.output) == [{"n": 15}]
    for write in ("DELETE FROM labels", "CREATE TABLE x (a INT)", "UPDATE gold SET label = 0",
                  "SELECT 1; DELETE FROM labels", f"COPY labels TO '{ws}/out.csv'",
                  f"ATTACH '{ws}/other.duckdb' AS other"):
        refused = runner.invoke(app, [*base, "sql", write])
        assert refused.exit_code == 2 and "read-only" in refused.output, refused.output
    sneaky = runner.invoke(app, [*base, "sql", f"SELECT * FROM read_csv('{ws}/w2s.duckdb')"])
    assert sneaky.exit_code == 2 and not (ws / "out.csv").exists()
    empty = runner.invoke(app, [*base, "sql", "SELECT * FROM labels WHERE false"])
    assert empty.exit_code == 0, empty.output
    missing = runner.invoke(app, [*base, "nope"])
    assert missing.exit_code == 2 and "no campaign 'nope'" in missing.output
    with Store.in_workspace(ws) as again:
        assert again.sql("SELECT count(*) FROM labels")[0][0] == 15


def test_the_audit_says_which_source_the_zero_gold_head_trusted_where(log):
    """The label model's estimates per category (logged at round 0) beside each
    source's accuracy on the test items: the supervisor's and the zero-shot answers'."""
    from w2s.agent.context import SOURCES
    from w2s.audit.report import tables

    store, _ = log
    est = {("supervisor", "a"): (0.7, 0.6, 0.8), ("zero-shot", "a"): (0.5, 0.4, 0.6)}
    store.write([Metric(campaign_id="c1", round=0, name=f"{kind}:{source}:{region}",
                        scope=SOURCES, value=v)
                 for (source, region), vals in est.items()
                 for kind, v in zip(("source_acc", "source_acc_lo", "source_acc_hi"), vals)])
    a = audit_campaign(store, "c1")
    (row,) = a["sources"]
    assert row["region"] == "a" and row["n_test"] == 6
    assert row["supervisor"] == {"estimate": 0.7, "lo": 0.6, "hi": 0.8, "true": pytest.approx(4 / 6)}
    assert row["zero-shot"]["estimate"] == 0.5 and row["zero-shot"]["true"] == pytest.approx(3 / 6)
    title, header, rows = next(t for t in tables(a) if t[0].startswith("which source"))
    assert rows == [["a", "0.700 [0.600, 0.800]", "0.667", "0.500 [0.400, 0.600]", "0.500"]]
