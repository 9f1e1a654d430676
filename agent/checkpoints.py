"""A campaign's checkpoints: one SQLite file in the workspace, keyed by campaign id.

Read here without building the graph, so that `w2s campaign status` need not import
LangGraph's graph machinery. A node is still to run when its trigger channel
(`branch:to:NODE`) holds a value newer than the node last saw; the integration test
checks this against the compiled graph's own `get_state().next`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import fields
from pathlib import Path

from .state import CampaignState

CHECKPOINTS = "checkpoints.sqlite"
_TRIGGER = "branch:to:"
_FIELDS = {f.name for f in fields(CampaignState)}


def graph_config(campaign_id: str) -> dict:
    return {"configurable": {"thread_id": campaign_id}, "recursion_limit": 1_000_000}


def checkpoint_state(workspace: Path, campaign_id: str) -> tuple[CampaignState | None, tuple]:
    """The last checkpointed state and the nodes still to run (empty when done)."""
    path = Path(workspace) / CHECKPOINTS
    if not path.exists():
        return None, ()
    from langgraph.checkpoint.sqlite import SqliteSaver

    with sqlite3.connect(path) as con:
        return from_checkpoint(SqliteSaver(con).get_tuple(graph_config(campaign_id)))


def from_checkpoint(saved) -> tuple[CampaignState | None, tuple]:
    """State and pending nodes of one saved `CheckpointTuple` (None: nothing saved)."""
    values = saved.checkpoint["channel_values"] if saved else {}
    if "campaign_id" not in values:  # nothing saved, or only the input
        return None, ()
    seen, versions = saved.checkpoint["versions_seen"], saved.checkpoint["channel_versions"]
    pending = tuple(channel.removeprefix(_TRIGGER) for channel in values
                    if channel.startswith(_TRIGGER) and versions[channel]
                    > seen.get(channel.removeprefix(_TRIGGER), {}).get(channel, ""))
    return CampaignState(**{k: v for k, v in values.items() if k in _FIELDS}), pending
