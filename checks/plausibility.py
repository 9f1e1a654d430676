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
from w2s.oracles.registry import OracleContext
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

    def run(self, ctx, state):
        picked = [i for i in ctx.pool if i.id in set(state.selected)] or ctx.pool
        rng = np.random.default_rng([ctx.config.seed, state.round, 7])
        items = [picked[k] for k in sorted(rng.choice(len(picked), min(self.sample,
                                                                       len(picked)), False))]
        p_true = self.truth_probs(ctx, state, None, items)
        labels = ctx.dataset.labels
        answers = [labels[int(p > 0.5)] for p in p_true]
        engine = self._engine(ctx)
        reasons = [self._reason(engine, ctx, i, a) for i, a in zip(items, answers)]
        judging = [Item(id=f"{i.id}#judge", dataset=i.dataset, split=i.split,
                        category=i.category, question="Answer the question above.",
                        text=JUDGE.format(question=i.question or ctx.dataset.question,
                                          text=i.text, answer=a, reason=r))
                   for i, a, r in zip(items, answers, reasons)]
        scores = self._judge(ctx, engine, judging)
        return [self.record(ctx, state, self.name, [i.id], 1 - s, answer=a, reason=r,
                            plausible=float(s))
                for i, a, r, s in zip(items, answers, reasons, scores)]

    def _engine(self, ctx):
        if not hasattr(ctx, "_plausibility_engine"):
            from w2s.agent.student import HFEngine
            ctx._plausibility_engine = HFEngine(ctx.trainer.student.model_dir)
        return ctx._plausibility_engine

    def _reason(self, engine, ctx, item: Item, answer: str) -> str:
        import torch

        tok = engine.tokenizer
        question = item.question or ctx.dataset.question
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

    def _judge(self, ctx, engine, judging: list[Item]) -> np.ndarray:
        if self.judge is not None:
            oracle = make_oracle(self.judge, OracleContext(ctx.store, ctx.dataset,
                                                           ctx.campaign_id, ctx.workspace))
            return np.array([0.5 if a is None else a.p1 for a in oracle.answer(judging)])
        prompter = ctx.trainer.student.prompter
        no, yes = prompter.label_words
        prompts = [prompter.render(i.text, f"Answer {yes} or {no}.") for i in judging]
        logprobs = engine.label_logprobs(prompts, prompter.label_ids)
        from w2s.agent.student.engines import collect
        return np.exp(collect(logprobs, len(prompts), 2)[:, 1])
