"""Experiments on the supervisor: contrast items the student writes, their validation
and provenance in a real DuckDB log, and the supervisor report's statistics on a
hand-built supervisor that reacts only to a known phrase. The student is a stand-in
here (it edits by rule); tests/integration/test_contrast.py uses a real model."""

import re

import numpy as np
import pytest

from w2s.agent.contrast.edits import EDITS, clean, threshold, validate
from w2s.agent.contrast.report import Reaction, SupervisorReport, interval, reactions
from w2s.agent.contrast.write import as_item, pick_parents, write_contrasts
from w2s.agent.student import Prompter
from w2s.oracles import NoisySupervisor, ask
from w2s.store import Contrast, Purpose, Query
from w2s.store.datasets import generate, subsample
from w2s.store.datasets.builtin import CUE


def test_clean_keeps_the_first_line_without_labels_or_quotes():
    assert clean('Rewritten text: "Paris is in France."\nExplanation: ...') == "Paris is in France."
    assert clean("\n\n  The sky is blue.  ") == "The sky is blue."
    assert clean("   \n ") == ""


@pytest.mark.parametrize("text, flips, t_edit, reason", [
    ("", False, 0.9, "empty"),
    ("Paris is the capital of France!", False, 0.9, "same as parent"),
    ("The capital of France is Paris.", False, 0.9, ""),
    ("The capital of France is Paris.", False, 0.1, "truth flipped"),
    ("Paris is not the capital of France.", True, 0.9, "truth kept"),
    ("Paris is not the capital of France.", True, 0.2, ""),
])
def test_an_edit_is_used_only_if_the_student_agrees_it_did_what_it_was_meant_to(
        text, flips, t_edit, reason):
    assert validate("Paris is the capital of France.", text, flips, 0.9, t_edit) == reason


def test_the_cut_is_the_median_of_the_parents():
    assert threshold(np.array([0.7, 0.8, 0.9])) == 0.8 and threshold(np.array([])) == 0.5


def test_wilson_interval_contains_the_share_and_narrows_with_n():
    for k, n in ((0, 5), (3, 10), (10, 10), (30, 100)):
        lo, hi = interval(k, n)
        assert 0 <= lo <= k / n <= hi <= 1
    assert np.diff(interval(30, 100)) < np.diff(interval(3, 10))


def _phrase_supervisor(text: str) -> int:
    """Says "true" exactly when the text starts with the cue, whatever it says."""
    return int(text.startswith(CUE))


def _reaction(edit, parent, child, region="r"):
    return Reaction(edit, EDITS[edit].flips, region, _phrase_supervisor(parent),
                    _phrase_supervisor(child), parent, child)


def test_report_names_the_phrase_a_hand_built_supervisor_follows():
    facts = [f"the {a} is a {b}" for a, b in (("dog", "mammal"), ("owl", "bird"),
                                                ("cod", "fish"), ("ant", "insect"))] * 5
    rs = []
    for k, fact in enumerate(facts):
        region = "even" if k % 2 else "odd"
        cued = CUE + fact
        rs.append(_reaction("drop-lead", cued, fact.capitalize(), region))
        rs.append(_reaction("add-lead", fact.capitalize(), CUE + fact, region))
        rs.append(_reaction("paraphrase", cued, CUE + fact.replace(" is ", " counts as "), region))
        rs.append(_reaction("negate", cued, CUE + fact.replace(" is ", " is not "), region))
    report = SupervisorReport.of(rs)
    top = report.top_sensitivity()
    assert top.edit in ("drop-lead", "add-lead") and top.rate == 1.0 and top.n == 20
    rows = {r.edit: r for r in report.overall()}
    assert rows["paraphrase"].revealed == 0  # keeps the phrase: never moves
    assert rows["negate"].rate == 1.0  # the supervisor never notices the truth flip
    assert rows["drop-lead"].low > 0.8 and rows["paraphrase"].high < 0.2
    assert {r.region for r in report.by_region("drop-lead")} == {"even", "odd"}
    assert report.region_rate("odd") == (20, 30)  # drop and add move it, paraphrase not
    assert all(e.reveals for e in rows["drop-lead"].examples) and len(rows["drop-lead"].examples) == 3


def test_a_supervisor_that_reads_the_content_shows_no_sensitivity():
    rs = [Reaction("paraphrase", False, "r", 1, 1), Reaction("negate", True, "r", 1, 0)] * 10
    report = SupervisorReport.of(rs)
    assert report.top_sensitivity() is None
    assert all(r.revealed == 0 for r in report.overall())


class RuleStudent:
    """Stands in for the LM: writes each edit by rule (drop-lead drops the cue; an
    item whose fact mentions 'snow' comes back unchanged) and judges truth by the
    words 'not' and 'never'."""
    model_version = "rule-student"

    def __init__(self, tokenizer_free_prompter):
        self.prompter = tokenizer_free_prompter
        self.engine = self
        self.generated = 0

    def generate(self, prompts, max_tokens):
        for k, prompt in enumerate(prompts):
            text, instruction = prompt.split("\n\n", 1)
            self.generated += 1
            if "snow" in text:
                out = text
            elif "opening phrase (such" in instruction and "without" in instruction:
                out = text.removeprefix(CUE)
            elif "opposite" in instruction:
                out = "It is not true that " + text
            else:
                out = text.rstrip(".") + ", as it happens."
            yield k, [f"Rewritten text: {out}"]

    def predict(self, items, dataset, heads):
        from w2s.agent.student import Head
        return {Head.true: np.array([0.1 if re.search(r"\bnot\b", i.text) else 0.9
                                     for i in items])}


@pytest.fixture
def builtin(store):
    d = subsample(generate(), 20)
    store.import_dataset(d.dataset, d.items, d.gold)
    items = [i for i in store.items("builtin") if i.split == "train"]
    return store, store.dataset("builtin"), items


class _Bare:
    """A tokenizer without a chat template: prompts are text, blank line, instruction."""
    chat_template = None

    def encode(self, word, add_special_tokens=False):
        return [hash(word) % 1000]


def test_contrasts_are_logged_with_provenance_and_rejects_with_reasons(builtin):
    store, dataset, items = builtin
    student = RuleStudent(Prompter(_Bare(), chat=False))
    parents = items[:12]
    edits = ["drop-lead", "paraphrase", "negate"]
    valid = write_contrasts(student, store, "c", 0, parents, dataset, edits, seed=5)
    logged = store.select(Contrast, "campaign_id = 'c'")
    assert len(logged) == len(parents) * len(edits) == student.generated
    for c in logged:
        parent = next(p for p in parents if p.id == c.parent_id)
        assert c.id == Contrast.make_id("c", 0, parent.id, c.edit, 5)
        assert c.prompt.startswith(parent.text) and EDITS[c.edit].instruction in c.prompt
        assert c.generator == "rule-student" and c.seed == 5 and c.flips == EDITS[c.edit].flips
        assert c.truth_parent is not None
        if "snow" in parent.text:
            assert c.status == "rejected" and c.reason == "same as parent"
        elif c.edit == "drop-lead" and not parent.text.startswith(CUE):
            assert c.status == "rejected" and c.reason == "same as parent"
        else:
            assert c.status == "valid" and c.reason == "" and c.text != parent.text
    assert {c.id for c in valid} == {c.id for c in logged if c.status == "valid"}
    # run again (a resumed campaign): nothing is written twice, nothing regenerated
    again = write_contrasts(student, store, "c", 0, parents, dataset, edits, seed=5)
    assert [c.id for c in again] == [c.id for c in valid] and student.generated == len(logged)
    # never an item of the dataset: evaluation and the pool cannot see them
    assert not [i for i in store.items("builtin") if i.id.startswith("contrast:")]


@pytest.fixture
def cue_campaign(builtin):
    """A supervisor fooled by the cue, its bulk labels, and the rule student's contrasts
    of 16 pool items, labeled by it."""
    store, dataset, items = builtin
    student = RuleStudent(Prompter(_Bare(), chat=False))
    supervisor = NoisySupervisor(store, cue=CUE, cue_label=1, name="cue-fooled")
    ask(store, supervisor, "c", 0, items, Purpose.BULK)  # the parents' own labels
    weak = np.array([a.p1 for a in supervisor.answer(items)])
    parents = pick_parents(items, weak, 16, seed=0)
    assert len(parents) == 16 and len({(p.category, int(w)) for p, w in zip(
        parents, weak[[items.index(p) for p in parents]])}) > 4  # spread over cells
    valid = write_contrasts(student, store, "c", 0, parents, dataset,
                            ["drop-lead", "paraphrase", "negate"], seed=0)
    by_id = {p.id: p for p in parents}
    asked = ask(store, supervisor, "c", 0, [as_item(c, by_id[c.parent_id]) for c in valid],
                Purpose.CONTRAST)
    assert len(asked) == len(valid)
    return store


def test_reactions_of_a_cue_fooled_supervisor_name_the_cue(cue_campaign):
    store = cue_campaign
    assert {q.purpose for q in store.select(Query, "item_id LIKE 'contrast:%'")} == {"contrast"}
    report = SupervisorReport.of(reactions(store, "c"))
    top = report.top_sensitivity()
    assert top.edit == "drop-lead" and top.revealed > 0
    # it moved where the cue had hidden a false statement, and nowhere else
    assert all(e.parent_text.startswith(CUE) and e.parent_label == 1 and e.edit_label == 0
               for e in top.examples)
    rows = {r.edit: r for r in report.overall()}
    assert rows["paraphrase"].revealed == 0


def test_the_audit_shows_the_report_and_its_plot(cue_campaign, tmp_path):
    from w2s.audit.figures import _supervisor
    from w2s.audit.report import plot_supervisor, supervisor_tables

    found = _supervisor(cue_campaign, "c")
    assert found["top"] == "drop-lead"
    assert {w["status"] for w in found["written"]} >= {"valid", "same as parent"}
    captions = [caption for caption, _, _ in supervisor_tables(found)]
    assert "top sensitivity: drop-lead" in captions[0] and len(captions) == 4
    plot_supervisor(found, tmp_path / "s.png")
    assert (tmp_path / "s.png").read_bytes().startswith(b"\x89PNG")
    assert _supervisor(cue_campaign, "another") is None


def test_the_campaign_experiments_again_once_its_predictions_have_moved(store):
    from types import SimpleNamespace

    from w2s.agent.config import CampaignConfig
    from w2s.agent.graph import route_after_contrast, route_after_predict
    from w2s.agent.nodes import _contrast_due
    from w2s.agent.state import CampaignState
    from w2s.store import Prediction, versions

    pool = [SimpleNamespace(id=f"i{k}") for k in range(10)]
    config = CampaignConfig(dataset="builtin", contrast={"enabled": True, "rerun_after": 0.3,
                                                         "runs": 2})
    ctx = SimpleNamespace(config=config, store=store, campaign_id="c", pool=pool,
                          say=lambda _: None)
    base = np.array([0.9] * 5 + [0.1] * 5)
    store.write([Prediction(campaign_id="c", round=1, item_id=i.id, head="true", prob=p,
                            model_version=versions.of_round("c", 0)) for i, p in zip(pool, base)])
    state = CampaignState("c", round=0, contrast_runs=1)
    assert _contrast_due(ctx, state, 1, base) == {"contrast_base": 1}  # the first after a run
    state.contrast_base = 1
    moved = base.copy()
    moved[:2] = 0.2
    assert _contrast_due(ctx, state, 2, moved) == {}  # 20 % moved: not enough
    moved[2] = 0.2
    assert _contrast_due(ctx, state, 3, moved) == {"contrast_due": True}  # 30 %
    state.contrast_runs = 2
    assert _contrast_due(ctx, state, 3, moved) == {}  # runs used up
    off = SimpleNamespace(**{**vars(ctx), "config": CampaignConfig(dataset="builtin")})
    assert _contrast_due(off, CampaignState("c", contrast_runs=1), 1, base) == {}
    # the routes: a run before any training goes on to train, a later one to the checks
    assert route_after_contrast(CampaignState("c")) == "train"
    assert route_after_contrast(CampaignState("c", model_version="c:r2")) == "check"
    assert route_after_predict(CampaignState("c", contrast_due=True)) == "contrast"
    assert route_after_predict(CampaignState("c")) == "check"
