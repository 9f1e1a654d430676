"""What every command shares: the workspace, the console, clean errors."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeElapsedColumn)

from w2s.store import Store, StoreError
from w2s.store.datasets import DataError

console = Console()
err_console = Console(stderr=True)
DEFAULT_WORKSPACE = "w2s-workspace"


def progress_bar() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                    MofNCompleteColumn(), TimeElapsedColumn(), console=console)


def workspace_path(ctx: typer.Context) -> Path:
    return Path((ctx.obj or {}).get("workspace") or os.environ.get("W2S_WORKSPACE")
                or DEFAULT_WORKSPACE)


def fail(message: str, code: int = 2) -> None:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def open_store(ctx: typer.Context, read_only: bool = False) -> Iterator[Store]:
    """The workspace's store; known errors become one clear line and exit code 2."""
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
