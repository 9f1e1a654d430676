"""The resume tests' one fault seam: graph nodes wrapped only when W2S_KILL_AT asks."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from w2s.agent import faults

GRAPH = textwrap.dedent("""
    import sys
    from dataclasses import dataclass
    from langgraph.graph import END, START, StateGraph
    from langgraph.runtime import Runtime
    from w2s.agent import faults

    @dataclass
    class State:
        n: int = 0

    @dataclass
    class Ctx:
        out: str

    def work(state: State, runtime: Runtime[Ctx]) -> dict:
        open(runtime.context.out, "a").write("worked\\n")
        return {"n": state.n + 1}

    node = faults.wrapper()
    g = StateGraph(State, context_schema=Ctx)
    g.add_node("work", node(work))
    g.add_edge(START, "work")
    g.add_edge("work", END)
    print(g.compile().invoke(State(), context=Ctx(sys.argv[1]))["n"])
""")


@pytest.mark.parametrize("kill_at,worked,killed", [
    (None, True, False), ("node:work:1", False, True), ("after:work:1", True, True),
    ("node:other:1", True, False), ("node:work:2", True, False)])
def test_nodes_die_where_the_variable_says(tmp_path, monkeypatch, kill_at, worked, killed):
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if k != faults.VARIABLE}
    if kill_at:
        env[faults.VARIABLE] = kill_at
    r = subprocess.run([sys.executable, "-c", GRAPH, str(out)], env=env, capture_output=True,
                       text=True)
    assert (r.returncode == -signal.SIGKILL) == killed, r.stderr
    assert out.exists() == worked
    if not killed:
        assert r.stdout.strip() == "1"  # the wrapped node got its runtime and ran once


def test_without_the_variable_nodes_are_untouched(monkeypatch):
    monkeypatch.delenv(faults.VARIABLE, raising=False)
    def node(state):
        return {}
    assert faults.wrapper()(node) is node
    monkeypatch.setenv(faults.VARIABLE, "sometimes:node:1")
    with pytest.raises(ValueError, match="node:NAME:N or after:NAME:N"):
        faults.wrapper()
