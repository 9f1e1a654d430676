"""What every check shares: the view of a round it is given, and the log records it
returns. A check sees nothing else of the campaign."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from w2s.agent.student.prompts import Prompter
from w2s.agent.student.variants import Variant
from w2s.store import Check, Dataset, Item


VIOLATION = 0.1  # a check flags an item whose score is above this


@dataclass
class CheckView:
    """One round as the checks see it (the campaign's check node builds it)."""
    campaign_id: str
    round: int
    model_version: str | None  # None: the prompted student, before any training
    seed: int
    dataset: Dataset
    pool: list[Item]
    # the truth head's P(label 1) for items, asked as the head reads them or as a variant
    truth: Callable[[Variant | None, list[Item]], np.ndarray]
    selected: list[str] = field(default_factory=list)  # items bought this round
    # for checks that write text (plausibility): the student in-process, its chat
    # prompter, and what an oracle judging the text may need
    generator: Callable[[], Any] | None = None
    prompter: Prompter | None = None
    judge_context: Callable[[], Any] | None = None


class ConsistencyCheck:
    name: ClassVar[str]

    def run(self, view: CheckView) -> list[Check]:
        """Score the pool for the student's model of this round; return the records."""
        raise NotImplementedError

    @staticmethod
    def truth_probs(view: CheckView, variant: Variant | None, items: list[Item]) -> np.ndarray:
        """P(label 1) from the truth head, asked as the head does or as a variant (a
        flipped variant's answer read back)."""
        p = view.truth(variant, items)
        return 1 - p if variant is not None and variant.flip else p

    @staticmethod
    def record(view: CheckView, name: str, item_ids: list[str], violation: float,
               **details) -> Check:
        return Check(campaign_id=view.campaign_id, round=view.round, check_name=name,
                     item_ids=item_ids, violation=float(violation),
                     model_version=view.model_version or "prompted", details=details)
