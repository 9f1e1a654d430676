"""Edits the student makes to an item, and the checks an edit must pass before use.

An edit either keeps the item's truth while changing its surface, or flips the
truth while keeping the surface. The student writes it from an instruction after
the item's text (the chat template of the heads), greedily, so the same parent,
edit and model write the same text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Edit:
    flips: bool  # meant to flip the truth (else to keep it)
    instruction: str


_ONLY = " Reply with the rewritten text only."
EDITS: dict[str, Edit] = {
    "drop-lead": Edit(False, "Rewrite the text above without its opening phrase (such as "
                             "'Everyone knows that' or 'In my opinion'), keeping the rest "
                             "word for word." + _ONLY),
    "add-lead": Edit(False, "Rewrite the text above with a short opening phrase added "
                            "before it (such as 'Everyone knows that' or 'Honestly,'), "
                            "keeping the rest word for word." + _ONLY),
    "paraphrase": Edit(False, "Paraphrase the text above: the same meaning in different "
                              "words." + _ONLY),
    "tone": Edit(False, "Rewrite the text above in a more formal tone, with the same "
                        "meaning." + _ONLY),
    "negate": Edit(True, "Rewrite the text above so that it says the opposite, changing as "
                         "few words as possible." + _ONLY),
    "swap": Edit(True, "Rewrite the text above with one name, number or key word swapped "
                       "for another so that its truth changes, keeping the rest word for "
                       "word." + _ONLY),
}
DEFAULT_EDITS = ("drop-lead", "add-lead", "paraphrase", "negate")

_PREFIX = re.compile(r"^(rewritten( text| statement)?|paraphrase|answer|text)\s*:\s*", re.I)
_QUOTES = "\"'“”‘’`"


def clean(written: str) -> str:
    """The first non-empty line of what the student wrote, without a label such as
    "Rewritten text:" or surrounding quotes."""
    for line in written.strip().splitlines():
        line = _PREFIX.sub("", line.strip()).strip()
        if len(line) > 1 and line[0] in _QUOTES and line[-1] in _QUOTES:
            line = line[1:-1].strip()
        if line:
            return line
    return ""


def _norm(text: str) -> str:
    return re.sub(r"\W+", " ", text).strip().lower()


def validate(parent: str, text: str, flips: bool, truth_parent: float, truth_edit: float,
             threshold: float = 0.5) -> str:
    """Why an edit cannot be used ("" if it can): it is empty, the same as its parent,
    or the student's own judgement of the truth (P(label 1), read against `threshold`)
    says it kept what it was meant to flip, or flipped what it was meant to keep."""
    if not text:
        return "empty"
    if _norm(text) == _norm(parent):
        return "same as parent"
    if len(text) > 4 * len(parent) + 40:
        return "too long"
    moved = (truth_parent >= threshold) != (truth_edit >= threshold)
    if flips and not moved:
        return "truth kept"
    if not flips and moved:
        return "truth flipped"
    return ""


def threshold(truth: np.ndarray) -> float:
    """Where the student's zero-shot P(label 1) divides the parents in two: its median,
    since a prompted LM's answers lean to one label word whatever the item."""
    return float(np.median(truth)) if len(truth) else 0.5
