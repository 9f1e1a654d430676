"""The two heads as prompts over one model.

Every prompt is the chat template around one user turn that starts with the item
text, so the system header and the item text are a shared prefix of both heads
and of every check variant (vLLM's prefix cache reuses it). The answer is the
next token after the assistant header: one of two label words.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from w2s.store import Dataset, Item

LABEL_WORDS = ("No", "Yes")  # label 0, label 1


class Head(StrEnum):
    weak = "weak"  # the label the weak supervisor would give
    true = "true"  # the true label


HEADS = (Head.weak, Head.true)

# The system turn of every chat prompt, shared by all of them. With the chat templates
# of Qwen2.5 and SmolLM2 it and the user turn's header are 33 tokens, so the first 32
# fill one KV block of vLLM's CPU attention (blocks are multiples of 32 tokens there):
# the prefix cache then skips them for every prompt after the first. The templates'
# own default system turns are 24 tokens and never filled a block (0 % cache hits).
SYSTEM = ("You are a helpful assistant. You read a text, then answer one question about it, "
          "truthfully and with one word.")

INSTRUCTIONS = {
    Head.true: "{question}\nAnswer {yes} or {no}.",
    Head.weak: ("A quick, non-expert labeler read this and was asked: {question}\n"
                "What did the labeler answer, {yes} or {no}?"),
}


class PromptError(ValueError):
    pass


def question_of(item: Item, dataset: Dataset) -> str:
    return item.question or dataset.question


class Prompter:
    """Renders head prompts with a tokenizer's chat template."""

    def __init__(self, tokenizer: Any, label_words: tuple[str, str] = LABEL_WORDS,
                 chat: bool = True):
        self.tokenizer = tokenizer
        self.label_words = label_words
        self.label_ids = tuple(self._single_token(w) for w in label_words)
        self.has_template = bool(getattr(tokenizer, "chat_template", None))
        # chat=False: bare prompts for features (a third of the tokens, nothing to answer)
        self.chat = chat

    def _single_token(self, word: str) -> int:
        ids = self.tokenizer.encode(word, add_special_tokens=False)
        if len(ids) != 1:
            raise PromptError(f"label word {word!r} is {len(ids)} tokens for this tokenizer; "
                              "pick label words that are one token each")
        return ids[0]

    def render(self, text: str, instruction: str) -> str:
        user = f"{text}\n\n{instruction}"
        if not self.chat:
            return user
        if not self.has_template:
            return f"{user}\nAnswer:"
        turns = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]
        try:
            return self.tokenizer.apply_chat_template(turns, tokenize=False,
                                                      add_generation_prompt=True)
        except Exception:  # noqa: BLE001  (a template with no system role raises its own kind)
            return self.tokenizer.apply_chat_template(turns[1:], tokenize=False,
                                                      add_generation_prompt=True)

    def head(self, item: Item, dataset: Dataset, head: Head) -> str:
        no, yes = self.label_words
        instruction = INSTRUCTIONS[head].format(question=question_of(item, dataset),
                                                yes=yes, no=no)
        return self.render(item.text, instruction)

    def features(self, item: Item, dataset: Dataset) -> str:
        """The one short prompt whose last-token state both probe heads read."""
        return self.render(item.text, question_of(item, dataset))
