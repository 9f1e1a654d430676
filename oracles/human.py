"""A person at the terminal. Shows one item at a time; a key per label, s to skip,
u to undo, p to show the student's two predictions, q to stop. Every label is
committed the moment it is entered."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from rich.console import Console
from rich.panel import Panel

from w2s.store import Dataset, Item

from .base import Answer, Oracle, OracleStopped, Recorder

Predictions = Callable[[str], "tuple[float, float] | None"]  # item id -> (P weak, P true)


class TerminalOracle(Oracle):
    name = "human-terminal"
    chunk_size = 1

    def __init__(self, dataset: Dataset, cost: float = 1.0, predictions: Predictions | None = None,
                 stdin: TextIO | None = None, console: Console | None = None):
        self.dataset, self.cost, self.predictions = dataset, cost, predictions
        self.stdin, self.console = stdin or sys.stdin, console or Console(highlight=False)
        # keys: 0/1 always; the first letter of each label too when they differ
        self.keys = {str(k): k for k in range(len(dataset.labels))}
        initials = [label[:1].lower() for label in dataset.labels]
        if len(set(initials)) == len(initials) and not set(initials) & set("supq"):
            self.keys.update({c: k for k, c in enumerate(initials)})

    def answer(self, items: Sequence[Item]) -> list[Answer | None]:
        raise NotImplementedError("a person labels through label(), one item at a time")

    def label(self, items: Sequence[Item], recorder: Recorder) -> None:
        done: list[Item] = []  # what undo can take back, most recent last
        k = 0
        while k < len(items):
            item = items[k]
            self._show(item, k, len(items))
            key = self._read()
            if key in self.keys:
                recorder.save([item], [Answer(self.keys[key], None)])
                done.append(item)
                k += 1
            elif key == "s":
                recorder.save([item], [None])
                done.append(item)
                k += 1
            elif key == "u":
                if not done:
                    self.console.print("[yellow]nothing to undo[/]")
                    continue
                recorder.undo(done.pop())
                k -= 1
            elif key == "p":
                self._show_predictions(item)
            elif key == "q":
                raise OracleStopped(f"{len(done)} of {len(items)} labeled, then stopped")
            else:
                self.console.print(f"[yellow]unknown key {key!r}[/]: {self._help()}")

    def _read(self) -> str:
        line = self.stdin.readline()
        if not line:  # end of input: stop, keeping what was given
            raise OracleStopped("input ended")
        return line.strip().lower()[:1]

    def _help(self) -> str:
        labels = ", ".join(f"{k} = {self.dataset.labels[v]}" for k, v in self.keys.items())
        return f"{labels}; s skip, u undo, p predictions, q stop"

    def _show(self, item: Item, k: int, n: int) -> None:
        question = item.question or self.dataset.question
        self.console.print(Panel(f"{item.text}\n\n[bold]{question}[/]",
                                 title=f"{k + 1}/{n}  {item.category}", subtitle=self._help()))

    def _show_predictions(self, item: Item) -> None:
        got = self.predictions(item.id) if self.predictions else None
        if got is None:
            self.console.print("no student predictions for this item yet")
            return
        p_weak, p_true = got
        label = self.dataset.labels[1]
        self.console.print(f"student: P({label}) = {p_true:.2f} (truth head), "
                           f"the supervisor would say {p_weak:.2f} (weak head)")
