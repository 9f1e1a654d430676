"""Start, run, resume and inspect campaigns. The loop is in graph.py, its checkpoints
in checkpoints.py."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from langgraph.checkpoint.sqlite import SqliteSaver

from w2s.oracles import OracleStopped
from w2s.store import Campaign, Store, queries, stable_id

from .config import CampaignConfig, was_retired
from .context import Context
from .checkpoints import CHECKPOINTS, checkpoint_state, graph_config
from .graph import build_graph
from .state import CampaignState
from .student.engines import Track, no_track

def init_campaign(store: Store, config: CampaignConfig, name: str | None = None) -> str:
    store.dataset(config.dataset)  # fails early, naming the datasets there are
    campaign_id = name or f"{config.dataset}-{stable_id(config.model_dump_json(), datetime.now())[:8]}"
    if store.select(Campaign, "id = ?", [campaign_id]):
        raise ValueError(f"campaign {campaign_id!r} already exists; resume it or pick another name")
    store.write([Campaign(id=campaign_id, dataset=config.dataset,
                          config=config.model_dump(mode="json"), status="created")])
    return campaign_id


def campaign_config(store: Store, campaign_id: str) -> CampaignConfig:
    found = store.select(Campaign, "id = ?", [campaign_id])
    if not found:
        known = ", ".join(c.id for c in store.select(Campaign)) or "none"
        raise ValueError(f"no campaign {campaign_id!r} in this workspace (there are: {known})")
    if found[0].kind == "experiment":
        raise ValueError(f"{campaign_id!r} is an experiment run, not a campaign")
    if was_retired(found[0].config):
        raise ValueError(f"{campaign_id!r} was run by an older w2s whose probe heads this one "
                         "cannot go on from; `w2s audit` still reads it: start a new campaign")
    return CampaignConfig(**found[0].config)


def run_campaign(store: Store, campaign_id: str, workspace: str | Path,
                 say: Callable[[str], None] = lambda _: None,
                 report: Callable[[int, dict], None] = lambda *_: None,
                 track: Track = no_track) -> CampaignState:
    """Run a campaign to its end, or on from its last checkpoint if it was started."""
    workspace = Path(workspace)
    config = campaign_config(store, campaign_id)
    state, pending = checkpoint_state(workspace, campaign_id)
    if state is not None and not pending:
        return state  # already finished
    ctx = Context(campaign_id, config, store, workspace, say, report, track)
    queries.set_status(store, campaign_id, "running")
    con = sqlite3.connect(workspace / CHECKPOINTS, check_same_thread=False)
    try:
        graph = build_graph().compile(checkpointer=SqliteSaver(con))
        start = None if state is not None else {"campaign_id": campaign_id}  # plain data: the checkpoint stores it
        if state is not None:
            say(f"resuming {campaign_id} at round {state.round}, before {', '.join(pending)}")
        result = graph.invoke(start, graph_config(campaign_id), context=ctx, durability="sync")
    except OracleStopped:
        queries.set_status(store, campaign_id, "stopped")
        raise
    except BaseException:
        queries.set_status(store, campaign_id, "failed")
        raise
    finally:
        ctx.close()
        con.close()
    queries.set_status(store, campaign_id, "done")
    return CampaignState(**result) if isinstance(result, dict) else result
