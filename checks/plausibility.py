"""Plausibility: is the student's answer the right kind of answer? The student
writes a one-sentence reason for its truth-head answer; a judge scores whether the
reason is about this item, on topic, and consistent with the answer.

The judge is any oracle (it answers a judging item yes/no), or by default the
student's own model with a judging prompt. Generation runs in-process
(transformers) on a small sample per round; on a GPU, point `judge` at an endpoint.
"""

from __future__ import annotations

import numpy as np

from w2s.oracles import OracleSpec, make_oracle
from w2s.store import Item

from .base import ConsistencyCheck

JUDGE = ("Here is a statement, an answer to the question \"{question}\" about it, and a "
         "reason given for the answer.\n\nStatement: {text}\nAnswer: {answer}\nReason: "
         "{reason}\n\nIs the reason about this statement, on topic, and consistent with "
         "the answer?")


class Plausibility(ConsistencyCheck):
    name = "plausibility"

    def __init__(self, sample: int = 8, max_new_tokens: int = 40,
                 judge: dict | None = None):
        self.sample, self.max_new_tokens = sample, max_new_tokens
        self.judge = None if judge is None else OracleSpec(**judge)

    def run(self, view):
        picked = [i for i in view.pool if i.id in set(view.selected)] or view.pool
        rng = np.random.default_rng([view.seed, view.round, 7])
        items = [picked[k] for k in sorted(rng.choice(len(picked), min(self.sample,
                                                                       len(picked)), False))]
        p_true = self.truth_probs(view, None, items)
        labels = view.dataset.labels
        answers = [labels[int(p > 0.5)] for p in p_true]
        engine = view.generator()
        reasons = [self._reason(engine, view, i, a) for i, a in zip(items, answers)]
        judging = [Item(id=f"{i.id}#judge", dataset=i.dataset, split=i.split,
                        category=i.category, question="Answer the question above.",
                        text=JUDGE.format(question=i.question or view.dataset.question,
                                          text=i.text, answer=a, reason=r))
                   for i, a, r in zip(items, answers, reasons)]
        scores = self._judge(view, engine, judging)
        return [self.record(view, self.name, [i.id], 1 - s, answer=a, reason=r,
                            plausible=float(s))
                for i, a, r, s in zip(items, answers, reasons, scores)]

    def _reason(self, engine, view, item: Item, answer: str) -> str:
        import torch

        tok = engine.tokenizer
        question = item.question or view.dataset.question
        messages = [{"role": "user", "content": f"{item.text}\n\n{question}"},
                    {"role": "assistant", "content": f"{answer}."},
                    {"role": "user", "content": "In one sentence, why?"}]
        prompt = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        enc = tok(prompt, return_tensors="pt", add_special_tokens=False)
        with torch.inference_mode():
            out = engine.model.generate(**enc, max_new_tokens=self.max_new_tokens,
                                        do_sample=False, pad_token_id=tok.pad_token_id)
        text = tok.decode(out[0, enc["input_ids"].shape[1]:], skip_special_tokens=True)
        return text.strip().split("\n")[0]

    def _judge(self, view, engine, judging: list[Item]) -> np.ndarray:
        if self.judge is not None:
            oracle = make_oracle(self.judge, view.judge_context())
            return np.array([0.5 if a is None else a.p1 for a in oracle.answer(judging)])
        prompter = view.prompter
        no, yes = prompter.label_words
        prompts = [prompter.render(i.text, f"Answer {yes} or {no}.") for i in judging]
        logprobs = engine.label_logprobs(prompts, prompter.label_ids)
        from w2s.agent.student.engines import collect
        return np.exp(collect(logprobs, len(prompts), 2)[:, 1])
