"""The same truth-head question asked other ways (the checks compare the answers; the
negation consistency term trains on one). Each variant is the item text plus
another instruction, rendered as the truth head reads it (the chat template in LoRA
mode, the bare feature prompt in probe mode), so the item stays a shared prefix;
`flip` marks variants whose "yes" means label 0."""

from __future__ import annotations

from dataclasses import dataclass

from w2s.store import Dataset, Item

from .prompts import Prompter, question_of


@dataclass(frozen=True)
class Variant:
    name: str
    instruction: str  # with {question}, {yes}, {no}
    flip: bool = False

    def prompt(self, prompter: Prompter, item: Item, dataset: Dataset) -> str:
        no, yes = prompter.label_words
        return prompter.render(item.text, self.instruction.format(
            question=question_of(item, dataset), yes=yes, no=no))


REWORDED = Variant("reworded", "Question: {question}\nReply with one word, {yes} or {no}.")
SWAPPED = Variant("options-swapped", "{question}\nAnswer {no} or {yes}.")
NEGATED = Variant("negated", "Here is a question: \"{question}\"\nWould the correct answer to "
                             "it be no? Answer {yes} or {no}.", flip=True)
VARIANTS = (REWORDED, SWAPPED, NEGATED)
