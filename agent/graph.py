"""The campaign loop, top to bottom:

    reference -> label_weak -> contrast -> train -> evaluate -> (stop?) -> predict
        -> (contrast again?) -> check -> select -> query -> train ...

The reference run (weak floor and gold ceiling, for PGR) comes first, unless logged
or switched off. The weak oracles label the pool in bulk once; if the config asks,
the student then experiments on its supervisor (contrast items), and again in a
later round once its predictions have moved enough; every round the student
predicts on the pool, the consistency checks run on that same model
(so the strategy sees its fresh violations), a strategy picks items, the gold
oracles label them, the student retrains and is evaluated, until a stopping
criterion fires. A
checkpoint is written after every node, so a killed campaign resumes where it was.
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from . import faults
from .context import Context
from .nodes import check, contrast, evaluate, label_weak, predict, query, reference, select, train
from .state import CampaignState


def route_after_evaluate(state: CampaignState) -> Literal["predict", "__end__"]:
    return END if state.stop_reason else "predict"


def route_after_contrast(state: CampaignState) -> Literal["train", "check"]:
    return "train" if state.model_version is None else "check"


def route_after_predict(state: CampaignState) -> Literal["contrast", "check"]:
    return "contrast" if state.contrast_due else "check"


def build_graph() -> StateGraph:
    graph = StateGraph(CampaignState, context_schema=Context)
    node = faults.wrapper()  # the identity unless a resume test sets W2S_KILL_AT
    graph.add_node("reference", node(reference))
    graph.add_node("label_weak", node(label_weak))
    graph.add_node("contrast", node(contrast))
    graph.add_node("train", node(train))
    graph.add_node("evaluate", node(evaluate))
    graph.add_node("predict", node(predict))
    graph.add_node("select", node(select))
    graph.add_node("query", node(query))
    graph.add_node("check", node(check))

    graph.add_edge(START, "reference")
    graph.add_edge("reference", "label_weak")
    graph.add_edge("label_weak", "contrast")
    graph.add_conditional_edges("contrast", route_after_contrast, ["train", "check"])
    graph.add_edge("train", "evaluate")
    graph.add_conditional_edges("evaluate", route_after_evaluate, ["predict", END])
    graph.add_conditional_edges("predict", route_after_predict, ["contrast", "check"])
    graph.add_edge("check", "select")
    graph.add_edge("select", "query")
    graph.add_edge("query", "train")
    return graph
