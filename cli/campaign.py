"""`w2s campaign init | run | resume | status`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from .common import activity, console, fail, open_store, workspace_path

if TYPE_CHECKING:  # the commands import what they use: `w2s --help` loads none of it
    from w2s.agent.config import CampaignConfig
    from w2s.store import Store

app = typer.Typer(no_args_is_help=True, help="Active-learning campaigns: spend a labeling "
                                              "budget where it teaches the student most.")
CONFIG_SUFFIXES = (".toml", ".yaml", ".yml")


@app.command()
def init(ctx: typer.Context,
         config: Annotated[Path, typer.Argument(help="Campaign config (TOML or YAML).")],
         name: Annotated[Optional[str], typer.Option(help="Campaign id (default: generated).")] = None,
         ) -> None:
    """Check a config and register the campaign; `run` starts it."""
    with open_store(ctx) as store:
        console.print(_init(store, config, name))


@app.command()
def run(ctx: typer.Context,
        target: Annotated[str, typer.Argument(
            help="A config file (TOML/YAML), a campaign id, or a dataset in the workspace "
                 "(default settings).")],
        name: Annotated[Optional[str], typer.Option(help="Campaign id for a new campaign.")] = None,
        ) -> None:
    """Run a campaign to its end (a started one goes on from its last checkpoint)."""
    from w2s.agent.config import CampaignConfig
    from w2s.store import Campaign

    with open_store(ctx) as store:
        ids = {c.id for c in store.select(Campaign)}
        if target in ids:
            campaign_id = target
        elif Path(target).suffix in CONFIG_SUFFIXES:
            campaign_id = _init(store, Path(target), name)
        elif target in {d.name for d in store.datasets()}:
            campaign_id = _init(store, None, name, CampaignConfig(dataset=target))
        else:
            fail(f"{target!r} is not a config file ({', '.join(CONFIG_SUFFIXES)}), a campaign "
                 "or a dataset in this workspace (w2s data list, w2s campaign status)")
        _run(ctx, store, campaign_id)


@app.command()
def resume(ctx: typer.Context,
           campaign: Annotated[str, typer.Argument(help="Campaign id.")]) -> None:
    """Go on from the last checkpoint of a stopped, failed or killed campaign."""
    from w2s.agent.checkpoints import checkpoint_state

    with open_store(ctx) as store:
        _config_or_fail(store, campaign)
        state, pending = checkpoint_state(workspace_path(ctx), campaign)
        if state is None:
            fail(f"campaign {campaign!r} never started; use: w2s campaign run {campaign}")
        if not pending:
            console.print(f"{campaign} already finished: {state.stop_reason}")
            return
        _run(ctx, store, campaign)


@app.command()
def status(ctx: typer.Context,
           campaign: Annotated[Optional[str], typer.Argument(help="Campaign id (default: list all).")] = None,
           ) -> None:
    """Where a campaign is: rounds, accuracy, labels and budget per oracle, checks."""
    with open_store(ctx, read_only=True) as store:
        if campaign is None:
            console.print(_list(store))
            return
        from w2s.agent.checkpoints import checkpoint_state
        from w2s.store import Campaign

        config = _config_or_fail(store, campaign)
        state, pending = checkpoint_state(workspace_path(ctx), campaign)
        record = store.select(Campaign, "id = ?", [campaign])[0]
        where = ("not started" if state is None else
                 f"round {state.round}, next: {', '.join(pending)}" if pending else
                 f"finished: {state.stop_reason}")
        console.print(f"[bold]{campaign}[/]  {config.dataset}  status {record.status}  ({where})")
        console.print(rounds_table(store, campaign))
        console.print(oracle_table(store, campaign, config))
        checks = check_table(store, campaign)
        if checks.row_count:
            console.print(checks)


def _init(store: Store, path: Path | None, name: str | None,
          config: CampaignConfig | None = None) -> str:
    from w2s.agent.campaign import init_campaign
    from w2s.agent.config import ConfigError, load_config

    try:
        config = config or load_config(path)
        return init_campaign(store, config, name)
    except (ConfigError, ValueError) as e:
        fail(str(e))


def _config_or_fail(store: Store, campaign: str) -> CampaignConfig:
    from w2s.agent.campaign import campaign_config

    try:
        return campaign_config(store, campaign)
    except ValueError as e:
        fail(str(e))


def _run(ctx: typer.Context, store: Store, campaign_id: str) -> None:
    from w2s.agent.campaign import run_campaign
    from w2s.agent.student import EngineError, ModelError
    from w2s.oracles import OracleStopped

    console.print(f"campaign [bold]{campaign_id}[/] (workspace {workspace_path(ctx)})")
    def report(round: int, metrics: dict) -> None:
        def f(key, fmt="{:.3f}"):
            return "-" if metrics.get(key) is None else fmt.format(metrics[key])
        console.print(f"round {round}: truth head {f(('acc:true', 'test'))} on test "
                      f"(held-out {f(('acc:true', 'held-out'))}), estimated "
                      f"{f(('est_acc', 'pool'))} on the pool, "
                      f"{f(('gold_labels', 'spend'), '{:.0f}')} gold labels, "
                      f"cost {f(('cost', 'spend'), '{:.2f}')}")

    try:
        with activity("campaign") as (say, track):
            state = run_campaign(store, campaign_id, workspace_path(ctx), say=say,
                                 report=report, track=track)
    except OracleStopped as e:
        console.print(f"paused: {e}. Every label given is saved; "
                      f"go on with: w2s campaign resume {campaign_id}")
        raise typer.Exit(0)
    except (EngineError, ModelError, ValueError) as e:
        fail(str(e))
    console.print(f"done after {state.round} rounds: {state.stop_reason}")
    console.print(rounds_table(store, campaign_id))


def _list(store: Store) -> Table:
    from w2s.store import Campaign, queries

    t = Table("campaign", "dataset", "status", "rounds", "gold labels", "created")
    for c in store.select(Campaign):
        if c.kind != "campaign":
            continue
        rounds, gold = queries.progress(store, c.id)
        t.add_row(c.id, c.dataset, c.status, str(rounds), str(int(gold)), f"{c.created_at:%Y-%m-%d %H:%M}")
    return t


def rounds_table(store: Store, campaign_id: str) -> Table:
    cols = [("acc:true", "test"), ("acc:weak-head", "test"), ("acc:true", "held-out"),
            ("est_acc", "pool"), ("gold_labels", "spend"), ("cost", "spend")]
    from w2s.store import queries

    rows = queries.metrics(store, campaign_id)
    by_round: dict[int, dict] = {}
    for r, n, s, v in rows:
        by_round.setdefault(r, {})[(n, s)] = v
    t = Table("round", "truth head (test)", "weak head (test)", "truth head (held-out)",
              "estimated acc (pool, no gold)", "gold labels", "cost", title="per round")
    for r, m in by_round.items():
        t.add_row(str(r), *[("" if m.get(c) is None else
                             f"{m[c]:.0f}" if c[1] == "spend" and c[0] == "gold_labels" else
                             f"{m[c]:.2f}" if c[0] == "cost" else f"{m[c]:.3f}") for c in cols])
    return t


def oracle_table(store: Store, campaign_id: str, config: CampaignConfig) -> Table:
    from w2s.store import queries

    rows = queries.queries_per_oracle(store, campaign_id)
    t = Table("oracle", "asked for", "labels", "pending", "skipped", "cost",
              title="labels per oracle; budgets: " + ", ".join(
                  f"{o.name} ({o.role}) {'unlimited' if o.budget is None else o.budget}"
                  for o in config.oracles))
    for oracle, strategy, n, pending, skipped, cost in rows:
        t.add_row(oracle, strategy, str(n), str(pending), str(skipped), f"{cost:.2f}")
    return t


def check_table(store: Store, campaign_id: str) -> Table:
    from w2s.store import queries

    from w2s.checks import VIOLATION

    rows = queries.checks_per_round(store, campaign_id, VIOLATION)
    t = Table("round", "check", "checked", "mean violation", f"violation rate (> {VIOLATION})",
              title="consistency checks")
    for r, name, n, mean, rate in rows:
        t.add_row(str(r), name, str(n), f"{mean:.3f}", f"{rate:.1%}")
    return t
