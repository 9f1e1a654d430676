"""People labeling in a browser. While the campaign waits on their labels it serves a
small page on 127.0.0.1: one queued item at a time, a button (and key) per label,
skip, undo and progress. A label is acknowledged only after it is committed to the
log; two tabs never hold the same item; every request needs the access token."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.resources import files

from w2s.store import Dataset, Item, Store, queries

from .base import Answer, Oracle, OracleStopped, Recorder

MAX_BODY = 4096  # bytes: a label, a skip or an undo is a few dozen
Predictions = Callable[[str], "tuple[float, float] | None"]


class Rejected(Exception):
    """A request the queue refuses, with the HTTP status that says why."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class LabelQueue:
    """The items the campaign waits on, shared by every tab. Each tab (client) leases
    one item at a time; a lease lapses after `lease_s` so a closed tab's item returns."""
    dataset: Dataset
    lease_s: float = 300.0
    items: dict[str, Item] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)
    given: dict[str, int | None] = field(default_factory=dict)  # item -> label (None: skipped)
    leases: dict[str, tuple[str, float]] = field(default_factory=dict)  # item -> (client, until)
    history: dict[str, list[str]] = field(default_factory=dict)  # client -> items, for undo
    recorder: Recorder | None = None
    stop_asked: bool = False
    lock: threading.RLock = field(default_factory=threading.RLock)
    changed: threading.Condition = field(init=False)

    def __post_init__(self):
        self.changed = threading.Condition(self.lock)

    def load(self, items: Sequence[Item], recorder: Recorder) -> None:
        with self.lock:
            self.items = {i.id: i for i in items}
            self.pending, self.given, self.leases, self.history = [i.id for i in items], {}, {}, {}
            self.recorder = recorder  # a stop asked between batches still stands

    def _expire(self) -> float:
        now = time.monotonic()
        self.leases = {i: (c, t) for i, (c, t) in self.leases.items() if t > now}
        return now

    def next_for(self, client: str) -> Item | None:
        """The item this client holds, else the first pending one nobody holds."""
        with self.lock:
            now = self._expire()
            held = next((i for i, (c, _) in self.leases.items() if c == client), None)
            free = [i for i in self.pending if i not in self.leases]
            pick = held if held in self.pending else (free[0] if free else None)
            if pick is not None:
                self.leases[pick] = (client, now + self.lease_s)
            return self.items[pick] if pick else None

    def answer(self, client: str, item_id: str, label: int | None) -> str:
        """Commit a label (None: skip); idempotent for a repeated submission."""
        with self.lock:
            if item_id not in self.items:
                raise Rejected(404, f"item {item_id!r} is not in the queue")
            if label is not None and not 0 <= label < len(self.dataset.labels):
                raise Rejected(422, f"label {label} is not one of 0..{len(self.dataset.labels) - 1}")
            if item_id in self.given:
                if self.given[item_id] == label:
                    return "already recorded"
                raise Rejected(409, f"item {item_id!r} already has an answer; undo it first")
            self._expire()
            holder = self.leases.get(item_id, (client, 0))[0]
            if holder != client:
                raise Rejected(409, f"item {item_id!r} is being labeled in another tab")
            if self.recorder is None:
                raise Rejected(409, "the campaign is not waiting on labels")
            self.recorder.save([self.items[item_id]], [None if label is None else Answer(label)])
            self.given[item_id] = label
            self.pending.remove(item_id)
            self.leases.pop(item_id, None)
            self.history.setdefault(client, []).append(item_id)
            self.changed.notify_all()
            return "recorded"

    def undo(self, client: str) -> str | None:
        """Take back this client's last answer: the item is pending again, held by it."""
        with self.lock:
            if not self.history.get(client) or self.recorder is None:
                return None
            item_id = self.history[client].pop()
            self.recorder.undo(self.items[item_id])
            del self.given[item_id]
            self.pending.insert(0, item_id)
            # the tab shows the item it took back next, so it lets go of the one it held
            self.leases = {i: (c, t) for i, (c, t) in self.leases.items() if c != client}
            self.leases[item_id] = (client, time.monotonic() + self.lease_s)
            self.changed.notify_all()
            return item_id

    def stop(self) -> None:
        with self.lock:
            self.stop_asked = True
            self.changed.notify_all()

    def wait(self) -> None:
        """Until every item has an answer (or the person stops). The batch closes under
        the same lock, so no undo can slip in between the last answer and the return."""
        with self.lock:
            try:
                while self.pending and not self.stop_asked:
                    self.changed.wait(timeout=1.0)
                left = len(self.pending)
            finally:
                self.recorder, self.pending, self.leases = None, [], {}
            if left:
                self.stop_asked = False
                raise OracleStopped(f"{len(self.given)} of {len(self.items)} labeled in the "
                                    "browser, then stopped")

    def progress(self, labeled_before: int, budget: int | None) -> dict:
        with self.lock:
            labeled = sum(v is not None for v in self.given.values())
            return {"labeled": labeled, "skipped": len(self.given) - labeled,
                    "queued": len(self.pending),
                    "budget_left": None if budget is None else budget - labeled_before - labeled}


class WebOracle(Oracle):
    """The `human-web` oracle: labels come from people at the page it serves."""
    name = "human-web"
    chunk_size = 1

    def __init__(self, store: Store, dataset: Dataset, campaign_id: str, cost: float = 1.0,
                 host: str = "127.0.0.1", port: int = 8765, token: str | None = None,
                 show_predictions: bool = False, predictions: Predictions | None = None,
                 budget: int | None = None, lease_s: float = 300.0,
                 say: Callable[[str], None] = print):
        self.store, self.dataset, self.campaign_id, self.cost = store, dataset, campaign_id, cost
        self.host, self.port = host, port
        self.token = token or secrets.token_urlsafe(18)
        self.show_predictions, self.predictions, self.budget = show_predictions, predictions, budget
        self.queue = LabelQueue(dataset, lease_s)
        self.say = say
        self._server = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/?token={self.token}"

    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        raise NotImplementedError("people label through label(), at the page")

    def labeled_before(self) -> int:
        """Labels this oracle gave the campaign before the current batch."""
        current = self.queue.given.keys()
        return sum(1 for i in queries.oracle_items(self.store, self.campaign_id, self.name)
                   if i not in current)

    def label(self, items: Sequence[Item], recorder: Recorder) -> None:
        self.serve()
        self.queue.load(items, recorder)
        self.say(f"waiting for {len(items)} labels at {self.url}")
        self.queue.wait()

    def serve(self) -> None:
        """Start the page in a background thread, once per process."""
        if self._server is not None:
            return
        import uvicorn
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            self.say(f"warning: serving on {self.host}, beyond this machine; anyone who has "
                     "the token can label")

        from .web_app import make_app
        config = uvicorn.Config(make_app(self), host=self.host, port=self.port,
                                log_level="warning", lifespan="off")
        self._server = uvicorn.Server(config)
        thread = threading.Thread(target=self._server.run, daemon=True, name="human-web")
        thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self._server = None
                raise OSError(f"human-web: cannot serve on {self.host}:{self.port} "
                              "(port in use? set params.port)")
            time.sleep(0.05)

    def close(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


def page_html() -> str:
    return files("w2s.oracles").joinpath("web_page.html").read_text()
