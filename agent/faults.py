"""Fault injection for the resume tests, in one seam: the graph's nodes.

W2S_KILL_AT=node:NAME:N kills this process with SIGKILL when node NAME starts for
the N-th time; W2S_KILL_AT=after:NAME:N when it has done its work for the N-th
time, before LangGraph checkpoints it (its labels and predictions are written, the
checkpoint is not). build_graph wraps the nodes only when the variable is set."""

from __future__ import annotations

import functools
import os
import signal
from collections.abc import Callable

VARIABLE = "W2S_KILL_AT"


def wrapper() -> Callable[[Callable], Callable]:
    """Node -> node: the identity, or a node that dies where W2S_KILL_AT says."""
    target = os.environ.get(VARIABLE)
    if not target:
        return lambda node: node
    when, name, count = target.rsplit(":", 2)
    if when not in ("node", "after"):
        raise ValueError(f"{VARIABLE}={target!r}: expected node:NAME:N or after:NAME:N")
    seen = [0]

    def wrap(node: Callable) -> Callable:
        if node.__name__ != name:
            return node

        @functools.wraps(node)  # keeps the signature LangGraph reads (state, runtime)
        def dying(*args, **kwargs):
            seen[0] += 1
            if when == "node" and seen[0] >= int(count):
                os.kill(os.getpid(), signal.SIGKILL)
            out = node(*args, **kwargs)
            if when == "after" and seen[0] >= int(count):
                os.kill(os.getpid(), signal.SIGKILL)
            return out

        return dying

    return wrap
