"""What every command shares: the workspace, the console, clean errors."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn,
                           SpinnerColumn, Task, TextColumn, TimeElapsedColumn,
                           TimeRemainingColumn)
from rich.text import Text

if TYPE_CHECKING:
    from w2s.store import Store

console = Console(log_path=False)  # "campaign.py:125" at the end of a line means nothing to users
err_console = Console(stderr=True)
DEFAULT_WORKSPACE = "w2s-workspace"


class _Counted(ProgressColumn):
    """A column shown only for tasks with a total (a status line has none)."""

    def __init__(self, column: ProgressColumn):
        super().__init__()
        self.column = column

    def render(self, task: Task):
        return self.column.render(task) if task.total is not None else Text("")


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.2f} items/s" if speed else "", style="progress.data.speed")


def progress_bar() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), _Counted(BarColumn()),
                    _Counted(MofNCompleteColumn()), _Counted(_Rate()),
                    _Counted(TimeRemainingColumn()), TimeElapsedColumn(), console=console)


@contextmanager
def activity(title: str) -> Iterator[tuple[Callable[[str], None],
                                           Callable[[str, int], Callable[[int], None]]]]:
    """(say, track) for a long command: say(message) updates the status line and logs
    it; track(description, total) adds a bar with its rate and the time left."""
    with progress_bar() as progress:
        status = progress.add_task(title, total=None)

        def say(message: str) -> None:
            progress.update(status, description=message)
            console.log(message)

        def track(description: str, total: int) -> Callable[[int], None]:
            task = progress.add_task(description, total=total)

            def advance(n: int) -> None:
                progress.advance(task, n)
                done = progress.tasks[progress.task_ids.index(task)]
                if done.finished:  # one line in the log instead of a bar per round
                    console.log(f"{description}: {total} in {done.elapsed:.0f} s "
                                f"({total / max(done.elapsed, 1e-9):.2f} items/s)")
                    progress.remove_task(task)

            return advance

        yield say, track


def workspace_path(ctx: typer.Context) -> Path:
    return Path((ctx.obj or {}).get("workspace") or os.environ.get("W2S_WORKSPACE")
                or DEFAULT_WORKSPACE)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def open_store(ctx: typer.Context, read_only: bool = False) -> Iterator[Store]:
    """The workspace's store; known errors become one clear line and exit code 2."""
    from w2s.store import Store, StoreError
    from w2s.store.datasets import DataError

    try:
        store = Store.in_workspace(workspace_path(ctx), read_only=read_only)
    except StoreError as e:
        fail(str(e))
    try:
        yield store
    except (DataError, StoreError) as e:
        fail(str(e))
    finally:
        store.close()
