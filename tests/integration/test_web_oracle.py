"""The human-web oracle's page and API, served for real on loopback while `ask()`
waits on labels in another thread, with a real DuckDB file."""

import json
import socket
import threading

import httpx
import pytest

from w2s.oracles import OracleStopped, ask
from w2s.oracles.web import WebOracle
from w2s.store import Dataset, Gold, Item

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Session:
    """ask() in a thread, as a campaign calls it; the test plays the browser."""

    def __init__(self, store, n=4, **params):
        self.store = store
        self.items = [Item(id=f"web:{k}", dataset="web", split="train", category=f"c{k % 2}",
                           text=f"statement number {k}") for k in range(n)]
        store.import_dataset(Dataset(name="web", labels=["false", "true"], question="True?"),
                             self.items, [Gold(item_id=i.id, label=1) for i in self.items])
        self.oracle = WebOracle(store, store.dataset("web"), "camp", port=free_port(),
                                budget=10, say=lambda m: None, **params)
        self.result, self.error = None, None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.oracle.port}", timeout=10,
                                 headers={"X-Token": self.oracle.token})
        for _ in range(200):
            if self.oracle.queue.recorder is not None:
                break
            threading.Event().wait(0.05)

    def _run(self):
        try:
            self.result = ask(self.store, self.oracle, "camp", 1, self.items, "entropy")
        except OracleStopped as e:
            self.error = e

    def next(self, client):
        r = self.http.get("/api/next", params={"client": client})
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path, **body):
        return self.http.post(path, json=body)

    def labels(self):
        return dict(self.store.sql(
            "SELECT q.item_id, l.value FROM queries q JOIN labels l ON l.query_id = q.id "
            "WHERE q.campaign_id = 'camp'"))

    def close(self):
        self.oracle.queue.stop()
        self.thread.join(10)
        self.oracle.close()
        self.http.close()


@pytest.fixture
def session(store):
    s = Session(store)
    yield s
    s.close()


A, B = "tab-aaaaaaaa", "tab-bbbbbbbb"


def test_every_request_needs_the_token(session):
    bare = httpx.Client(base_url=str(session.http.base_url), timeout=10)
    for method, path in (("GET", "/"), ("GET", f"/api/next?client={A}"), ("POST", "/api/label"),
                         ("POST", "/api/undo"), ("POST", "/api/stop")):
        for headers in ({}, {"X-Token": "wrong"}):
            r = bare.request(method, path, headers=headers,
                             json={"client": A, "item_id": "web:0", "label": 1})
            assert r.status_code == 401, (method, path, r.text)
    assert session.labels() == {} and session.oracle.queue.stop_asked is False
    page = bare.get("/", params={"token": session.oracle.token})
    assert page.status_code == 200 and "w2s labeling" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # works offline
    bare.close()
    assert session.oracle.host == "127.0.0.1"


def test_labels_are_committed_when_acknowledged_and_tabs_never_share(session):
    a, b = session.next(A), session.next(B)
    assert a["item"]["id"] != b["item"]["id"]
    assert session.next(A)["item"]["id"] == a["item"]["id"]  # a reload keeps the item
    assert "predictions" not in a["item"]  # off by default
    assert a["progress"] == {"labeled": 0, "skipped": 0, "queued": 4, "budget_left": 10}
    r = session.post("/api/label", client=A, item_id=a["item"]["id"], label=1)
    assert r.json()["status"] == "recorded"
    assert session.labels() == {a["item"]["id"]: 1}  # in DuckDB the moment it is acknowledged
    again = session.post("/api/label", client=A, item_id=a["item"]["id"], label=1)
    assert again.status_code == 200 and again.json()["status"] == "already recorded"
    assert session.post("/api/label", client=A, item_id=a["item"]["id"], label=0).status_code == 409
    # B's item cannot be answered from A's tab
    assert session.post("/api/label", client=A, item_id=b["item"]["id"], label=0).status_code == 409
    assert session.next(A)["progress"]["budget_left"] == 9


def test_bad_requests_get_clear_4xx(session):
    item = session.next(A)["item"]["id"]
    cases = [
        ({"client": A, "item_id": "web:nope", "label": 1}, 404),
        ({"client": A, "item_id": item, "label": 2}, 422),
        ({"client": A, "item_id": item, "label": "yes"}, 422),
        ({"client": A, "item_id": item}, 422),
        ({"client": A, "item_id": item, "label": 1, "sql": "DROP TABLE labels"}, 422),
        ({"client": "x'; --", "item_id": item, "label": 1}, 422),
    ]
    for body, status in cases:
        r = session.post("/api/label", **body)
        assert r.status_code == status, (body, r.text)
        assert r.json()["detail"]
    big = session.http.post("/api/label", content=json.dumps(
        {"client": A, "item_id": "x" * 10_000, "label": 1}), headers={"Content-Type": "application/json"})
    assert big.status_code == 413
    bad_json = session.http.post("/api/label", content="{not json",
                                 headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 422
    assert session.http.get("/api/next", params={"client": "no"}).status_code == 422
    assert session.labels() == {}


def test_undo_skip_and_the_batch_completes(session):
    first = session.next(A)["item"]["id"]
    session.post("/api/label", client=A, item_id=first, label=0)
    undone = session.post("/api/undo", client=A).json()
    assert undone == {"status": "undone", "item_id": first} and session.labels() == {}
    assert session.store.sql("SELECT status FROM queries WHERE item_id = ?", [first]) == [("pending",)]
    assert session.next(A)["item"]["id"] == first  # back, to the same tab
    assert session.post("/api/undo", client=B).status_code == 409  # B has nothing to undo
    session.post("/api/skip", client=A, item_id=first)
    assert session.store.sql("SELECT status FROM queries WHERE item_id = ?", [first]) == [("skipped",)]
    while (item := session.next(A)["item"]) is not None:
        session.post("/api/label", client=A, item_id=item["id"], label=1)
    session.thread.join(10)
    assert session.error is None and len(session.result) == 3
    assert sorted(session.labels().values()) == [1, 1, 1]


def test_stop_pauses_the_campaign_and_keeps_labels(session):
    item = session.next(A)["item"]["id"]
    session.post("/api/label", client=A, item_id=item, label=1)
    assert session.post("/api/stop", client=A).status_code == 200
    session.thread.join(10)
    assert isinstance(session.error, OracleStopped) and session.labels() == {item: 1}


def test_after_a_batch_nothing_can_be_undone_and_a_stop_waits_for_the_next(session):
    while (item := session.next(A)["item"]) is not None:
        session.post("/api/label", client=A, item_id=item["id"], label=1)
    session.thread.join(10)
    assert len(session.result) == 4
    assert session.post("/api/undo", client=A).status_code == 409  # the batch is closed
    assert len(session.labels()) == 4
    assert session.post("/api/stop", client=A).status_code == 200  # pressed between batches
    more = Item(id="web:more", dataset="web", split="train", category="c0", text="one more")
    with pytest.raises(OracleStopped):  # the next batch pauses at once, as asked
        ask(session.store, session.oracle, "camp", 2, [more], "entropy")


def test_predictions_shown_only_when_enabled(store):
    s = Session(store, show_predictions=True)
    s.oracle.predictions = lambda item_id: (0.2, 0.7)
    try:
        assert s.next(A)["item"]["predictions"] == {"weak_head": 0.2, "truth_head": 0.7}
    finally:
        s.close()


def test_the_page_in_headless_chromium(session, chromium_page):
    page = chromium_page
    page.goto(session.oracle.url)
    page.wait_for_selector("#card:not(.hidden)")
    seen = []
    for key in ("1", "0", "t"):  # keys: 0/1 and the labels' initials
        text = page.inner_text("#text")
        seen.append(text)
        page.keyboard.press(key)
        page.wait_for_function("t => document.getElementById('text').textContent !== t", arg=text)
    assert sorted(session.labels().values()) == [0, 1, 1]
    page.click("#undo")  # takes back the last one ("t" = true)
    page.wait_for_function("t => document.getElementById('text').textContent === t", arg=seen[-1])
    assert len(session.labels()) == 2
    page.reload()
    page.wait_for_selector("#card:not(.hidden)")
    assert page.inner_text("#text") == seen[-1]  # the reload kept this tab's item
    assert "2 labeled" in page.inner_text("#progress")
    page.click("button.label[data-label='0']")
    page.wait_for_function("document.getElementById('text').textContent !== " + json.dumps(seen[-1]))
    page.keyboard.press("s")
    session.thread.join(10)
    assert session.error is None
    rows = session.store.sql("SELECT q.status, count(*) FROM queries q GROUP BY 1 ORDER BY 1")
    assert rows == [("answered", 3), ("skipped", 1)]
    assert page.errors == []
    page.wait_for_selector("#idle:not(.hidden)")


CAMPAIGN = """
dataset = "builtin"
reference = false
batch_size = 3
stopping = [{{ name = "budget" }}]

[[oracles]]
name = "weak-model"
role = "weak"
params = {{ model = "tfidf" }}

[[oracles]]
name = "human-web"
role = "gold"
cost = 1.0
budget = 6
params = {{ port = {port} }}

[student]
model = "smollm2-135m-instruct"  # the fast student
engine = "{engine}"
"""


@pytest.mark.slow
def test_a_campaign_serves_the_page_and_survives_a_kill(tmp_path, chromium_page):
    """`w2s campaign run` with human-web: a browser labels, undoes and reloads; the
    campaign is killed mid-batch, resumed, and the browser finishes the job."""
    import importlib.util
    import os
    import re
    import signal
    import subprocess
    import sys
    from pathlib import Path

    from w2s.store import Store

    w2s = str(Path(sys.executable).parent / "w2s")
    ws, cfg = tmp_path / "ws", tmp_path / "web.toml"
    engine = "vllm" if importlib.util.find_spec("vllm") else "hf"
    cfg.write_text(CAMPAIGN.format(port=free_port(), engine=engine))
    subprocess.run([w2s, "-w", str(ws), "data", "import", "builtin", "--per-category", "12"],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "300"}

    def start(*args):
        proc = subprocess.Popen([w2s, "-w", str(ws), "campaign", *args], env=env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for line in proc.stdout:  # the campaign prints the page's address with its token
            if m := re.search(r"waiting for (\d+) labels at (http://127\.0\.0\.1:\d+/\?token=\S+)", line):
                return proc, int(m[1]), m[2]
        raise AssertionError(f"no labeling page announced; exit {proc.wait()}")

    def label_next(page, key):
        page.wait_for_selector("#card:not(.hidden)", timeout=600_000)  # rounds wait on training
        text = page.inner_text("#text")
        page.keyboard.press(key)
        page.wait_for_function("t => document.getElementById('text').textContent !== t || "
                               "document.getElementById('card').classList.contains('hidden')",
                               arg=text, timeout=60_000)

    proc, n, url = start("run", str(cfg), "--name", "web")
    assert n == 3
    page = chromium_page
    page.goto(url)
    page.wait_for_selector("#card:not(.hidden)")
    assert "budget left 6" in page.inner_text("#progress")
    label_next(page, "1")
    label_next(page, "0")
    page.click("#undo")
    page.wait_for_function("document.querySelector('#message').textContent.startsWith('undone')")
    page.reload()
    page.wait_for_selector("#card:not(.hidden)")
    label_next(page, "1")  # the undone item, labeled again: 2 of 3 given
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with Store(ws / "w2s.duckdb", read_only=True) as s:
        given = s.sql("SELECT count(*) FROM labels WHERE oracle = 'human-web'")[0][0]
    assert given == 2  # everything acknowledged survived the kill

    proc, n, url = start("resume", "web")
    assert n == 1  # only the item nobody labeled is asked again
    # while the campaign was dead, the page's own polling could only fail ("cannot reach
    # the campaign"): that, and nothing else, is allowed before the resume
    assert all(e.startswith("failed: ") and "/api/next?" in e for e in page.errors), page.errors
    page.errors.clear()
    page.goto(url)
    page.wait_for_selector("#card:not(.hidden)")
    label_next(page, "1")
    page.wait_for_selector("#card:not(.hidden)", timeout=600_000)  # round 2, after retraining
    page.screenshot(path=str(tmp_path / "labeling-page.png"))
    for key in ("1", "0", "1"):
        label_next(page, key)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out
    assert "done after" in out
    with Store(ws / "w2s.duckdb", read_only=True) as s:
        rows = s.sql("SELECT q.round, q.status, count(l.query_id) FROM queries q LEFT JOIN labels l "
                     "ON l.query_id = q.id WHERE q.oracle = 'human-web' GROUP BY ALL ORDER BY ALL")
    assert rows == [(1, "answered", 3), (2, "answered", 3)]
    assert page.errors == []
