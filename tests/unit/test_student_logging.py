"""Student.predict_to_store writes each batch as it lands, so an engine that dies
half-way loses nothing already computed. The engine is a stand-in here; the real
engines are tested in tests/integration/test_student.py."""

import numpy as np
import pytest

from w2s.agent.student import Head, Student
from w2s.agent.student.engines import EngineError
from w2s.store import Dataset, Item, Prediction


class DiesAfter:
    model_version = "stub"

    def __init__(self, batches):
        self.batches = batches

    def label_logprobs(self, prompts, label_ids):
        for b, start in enumerate(range(0, len(prompts), 4)):
            if b == self.batches:
                raise EngineError("server died")
            n = min(4, len(prompts) - start)
            yield start, np.log(np.tile([0.25, 0.75], (n, 1)))


class Prompter:
    label_ids = (1, 2)

    def head(self, item, dataset, head):
        return f"{item.text}|{head}"


def student_with(engine):
    s = Student.__new__(Student)
    s.engine, s.prompter, s.model_version = engine, Prompter(), "stub"
    return s


def test_batches_finished_before_a_failure_are_logged(store):
    ds = Dataset(name="d", labels=["no", "yes"], question="q")
    items = [Item(id=f"d:{i}", dataset="d", split="test", category="c", text=f"t{i}")
             for i in range(10)]
    with pytest.raises(EngineError):
        student_with(DiesAfter(2)).predict_to_store(store, items, ds, "c1", 0)
    logged = store.select(Prediction)
    assert len(logged) == 8  # two batches of 4 prompts
    assert {(p.item_id, p.head) for p in logged} == {
        (f"d:{i}", h) for i in range(4) for h in ("weak", "true")}
    assert all(p.prob == pytest.approx(0.75) for p in logged)


def test_heads_are_item_major_and_probabilities_are_of_label_one(store):
    ds = Dataset(name="d", labels=["no", "yes"], question="q")
    items = [Item(id=f"d:{i}", dataset="d", split="test", category="c", text=f"t{i}")
             for i in range(3)]
    probs = student_with(DiesAfter(99)).predict_to_store(store, items, ds, "c1", 0)
    assert set(probs) == {Head.weak, Head.true}
    assert np.allclose(probs[Head.true], 0.75)
    assert len(store.select(Prediction)) == 6
