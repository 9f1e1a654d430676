"""The campaign loop, top to bottom:

    reference -> label_weak -> train -> evaluate -> (stop?) -> predict -> check -> select
        -> query -> train ...

The reference run (weak floor and gold ceiling, for PGR) comes first, unless logged
or switched off. The weak oracles label the pool in bulk once; then every round
the student predicts on the pool, the consistency checks run on that same model
(so the strategy sees its fresh violations), a strategy picks items, the gold
oracles label them, the student retrains and is evaluated, until a stopping
criterion fires. A
checkpoint is written after every node, so a killed campaign resumes where it was.
"""

from __future__ import annotations

from langgraph.graph import END, START, StateGraph

from .context import Context
from .nodes import check, evaluate, label_weak, predict, query, reference, select, train
from .state import CampaignState


def route_after_evaluate(state: CampaignState) -> str:
    return END if state.stop_reason else "predict"


def build_graph() -> StateGraph:
    graph = StateGraph(CampaignState, context_schema=Context)
    graph.add_node("reference", reference)
    graph.add_node("label_weak", label_weak)
    graph.add_node("train", train)
    graph.add_node("evaluate", evaluate)
    graph.add_node("predict", predict)
    graph.add_node("select", select)
    graph.add_node("query", query)
    graph.add_node("check", check)

    graph.add_edge(START, "reference")
    graph.add_edge("reference", "label_weak")
    graph.add_edge("label_weak", "train")
    graph.add_edge("train", "evaluate")
    graph.add_conditional_edges("evaluate", route_after_evaluate, ["predict", END])
    graph.add_edge("predict", "check")
    graph.add_edge("check", "select")
    graph.add_edge("select", "query")
    graph.add_edge("query", "train")
    return graph
