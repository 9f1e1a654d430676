"""`w2s audit`: what a campaign did and whether it generalizes, from the log alone.

    w2s audit CAMPAIGN            tables, PNG plots and an HTML report
    w2s audit compare A B ...     several campaigns side by side
    w2s audit sql "SELECT ..."    read-only ad-hoc queries on the log
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from typer.core import TyperGroup

from .common import console, fail, open_store, workspace_path


class _CampaignByDefault(TyperGroup):
    """`w2s audit CAMPAIGN` means `w2s audit show CAMPAIGN`."""

    def resolve_command(self, ctx, args):
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["show", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(cls=_CampaignByDefault, no_args_is_help=True,
                  help="Audit campaigns from the DuckDB log alone (no model runs).")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the figures as JSON, nothing else.")]
OutOpt = Annotated[Optional[Path], typer.Option(
    "--out", help="Folder for the PNG plots and report.html (default: WORKSPACE/audit/NAME).")]


def _figures(ctx: typer.Context, compute, *args) -> dict:
    from w2s.audit import AuditError

    with open_store(ctx, read_only=True) as store:
        try:
            return compute(store, *args)
        except AuditError as e:
            fail(str(e))


def _emit(data: dict, as_json: bool, parts, out: Path, write) -> None:
    from w2s.audit.report import rich_table

    if as_json:
        print(json.dumps(data, indent=2, sort_keys=True))
        return
    for part in parts:
        console.print(rich_table(*part))
    files = write(data, out)
    console.print("plots: " + ", ".join(str(p) for k, p in files.items() if k != "report"))
    console.print(f"report: {files['report']}")


@app.command()
def show(ctx: typer.Context,
         campaign: Annotated[str, typer.Argument(help="Campaign id.")],
         as_json: JsonOpt = False, out: OutOpt = None) -> None:
    """Per-round accuracy, PGR, spend, supervisor agreement, checks, held-out grid."""
    from w2s.audit import audit_campaign, write_campaign_report
    from w2s.audit.report import tables

    data = _figures(ctx, audit_campaign, campaign)
    _emit(data, as_json, tables(data), out or workspace_path(ctx) / "audit" / campaign,
          write_campaign_report)


@app.command()
def compare(ctx: typer.Context,
            campaigns: Annotated[list[str], typer.Argument(help="Campaign ids.")],
            as_json: JsonOpt = False, out: OutOpt = None) -> None:
    """Several campaigns (methods) side by side."""
    from w2s.audit import compare_campaigns, write_compare_report
    from w2s.audit.report import compare_table

    data = _figures(ctx, compare_campaigns, campaigns)
    name = "compare-" + "-".join(campaigns)[:80]
    _emit(data, as_json, [compare_table(data)], out or workspace_path(ctx) / "audit" / name,
          write_compare_report)


@app.command()
def sql(ctx: typer.Context,
        query: Annotated[str, typer.Argument(help="One SQL query; the log is opened read-only.")],
        as_json: JsonOpt = False) -> None:
    """Ad-hoc read-only queries on the log: one SELECT, nothing else."""
    import duckdb

    from w2s.audit.report import rich_table

    try:
        statements = duckdb.extract_statements(query)
    except duckdb.Error as e:
        fail(f"query: {str(e).splitlines()[0]}")
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        fail("audit sql runs exactly one SELECT statement (the log is read-only)")
    with open_store(ctx, read_only=True) as store:
        try:
            # no COPY TO, ATTACH or file reads from inside the SELECT either
            store.con.execute("SET enable_external_access = false")
            cur = store.con.execute(query)
            header = [d[0] for d in cur.description or []]
            rows = cur.fetchall() if header else []
        except duckdb.Error as e:
            fail(f"query refused or failed: {str(e).splitlines()[0]}")
    if as_json:
        print(json.dumps([dict(zip(header, r)) for r in rows], indent=2, default=str))
        return
    console.print(rich_table(f"{len(rows)} rows", header, [[str(c) for c in r] for r in rows]))
