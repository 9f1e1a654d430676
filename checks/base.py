"""What every check shares: the items it looks at and the log it writes to."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from w2s.store import Check, Item

from w2s.agent.student.variants import Variant


class ConsistencyCheck:
    name: ClassVar[str]

    def run(self, ctx, state) -> list[Check]:
        """Score the pool for the student's model of this round; write and return checks."""
        raise NotImplementedError

    @staticmethod
    def truth_probs(ctx, state, variant: Variant | None, items: list[Item]) -> np.ndarray:
        """P(label 1) from the truth head, asked as the head does or as a variant."""
        if variant is None:
            rows = np.array([ctx.row_of[i.id] for i in items])
            return ctx.predict(state.model_version, "train")[1][rows]
        prompter = ctx.trainer.prompter  # the rendering the truth head reads
        p = ctx.trainer.predict_prompts(
            state.model_version, [variant.prompt(prompter, i, ctx.dataset) for i in items], items)
        return 1 - p if variant.flip else p

    @staticmethod
    def record(ctx, state, name: str, item_ids: list[str], violation: float,
               **details) -> Check:
        return Check(campaign_id=ctx.campaign_id, round=state.round, check_name=name,
                     item_ids=item_ids, violation=float(violation),
                     model_version=state.model_version or "prompted", details=details)
