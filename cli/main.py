"""The `w2s` command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from w2s import __version__

from . import audit, campaign, data, experiment, student
from .common import console, open_store, workspace_path

WORKSPACE_FLAGS = ("-w", "--workspace")


class _Root(TyperGroup):
    """`-w/--workspace` may come anywhere, also after the subcommand (`w2s data import
    f.csv -w ws`): it is moved to the front, where the root command reads it."""

    def parse_args(self, ctx, args):
        front, rest, k = [], [], 0
        while k < len(args):
            arg = args[k]
            if arg == "--":
                rest += args[k:]
                break
            if arg in WORKSPACE_FLAGS and k + 1 < len(args):
                front += args[k:k + 2]
                k += 2
                continue
            if arg.startswith("--workspace="):
                front.append(arg)
            else:
                rest.append(arg)
            k += 1
        return super().parse_args(ctx, front + rest)


app = typer.Typer(name="w2s", cls=_Root, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Weak-to-strong campaigns: teach a strong model what is true from weak "
                       "supervisors and a small budget of trusted labels.")
app.add_typer(data.app, name="data")
app.add_typer(student.model_app, name="model")
app.add_typer(campaign.app, name="campaign")
app.add_typer(audit.app, name="audit")
app.command()(student.serve)
app.command()(student.predict)
app.command()(experiment.experiment)


def _version(value: bool) -> None:
    if value:
        console.print(f"w2s {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    ctx: typer.Context,
    workspace: Annotated[Optional[Path], typer.Option(
        "--workspace", "-w", help="Workspace folder (default: $W2S_WORKSPACE or ./w2s-workspace).")] = None,
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    ctx.obj = {"workspace": workspace}


@app.command()
def info(ctx: typer.Context) -> None:
    """The workspace: where it is, its schema version, rows per table."""
    from rich.table import Table

    from w2s.store import queries
    from w2s.store.gold import gold_per_dataset
    from w2s.store.schema import LATEST

    with open_store(ctx) as store:
        counts = dict(sorted({**queries.row_counts(store),
                              "gold": sum(gold_per_dataset(store).values())}.items()))
        version = store.version()
    console.print(f"workspace {workspace_path(ctx).resolve()}  (schema v{version}, "
                  f"w2s reads v{LATEST})")
    table = Table("table", "rows")
    for t, n in counts.items():
        table.add_row(t, f"{n:,}")
    console.print(table)
