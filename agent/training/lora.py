"""LoRA fine-tuning of the student's two heads (transformers + peft), and loading
the adapter into a running vLLM server.

A head's prediction is the model's next-token logits at the last prompt token,
restricted to the two label tokens: the same numbers the engines score. Each step
takes both heads' prompts of the same items, under the training objective the
probe heads share (losses.objective).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from w2s.agent.student.engines import EngineError

from .config import TrainConfig
from .losses import objective


def _label_logits(model, tokenizer, prompts: Sequence[str], label_ids: torch.Tensor,
                  device: str) -> torch.Tensor:
    """[n, 2] logits of the label tokens after each prompt."""
    # right padding, as in HFEngine: each prompt keeps positions 0..len-1
    enc = tokenizer(list(prompts), add_special_tokens=False, padding=True,
                    padding_side="right", return_tensors="pt").to(device)
    base = model.get_base_model()
    hidden = base.get_decoder()(**enc).last_hidden_state
    last = enc["attention_mask"].sum(dim=1) - 1
    h = hidden[torch.arange(len(prompts), device=device), last]
    # only the two label rows of the output layer: the full-vocabulary logits of every
    # position would cost about a quarter of the step
    return h @ base.get_output_embeddings().weight[label_ids].T


def train_lora(model_dir: Path, weak_prompts: list[str], true_prompts: list[str],
               weak_probs: np.ndarray, gold: np.ndarray, label_ids: tuple[int, int],
               config: TrainConfig, out_dir: Path,
               on_step: Callable[[int, int, float], None] | None = None) -> Path:
    """Train a LoRA adapter on both heads and save it (adapter only) to out_dir.

    weak_probs: P(label 1) from the weak supervisor per item; gold: 1/0 bought gold
    label per item, or -1 for none. on_step gets (step, total_steps, loss).
    """
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer

    n = len(weak_prompts)
    if not (len(true_prompts) == len(weak_probs) == len(gold) == n):
        raise ValueError("weak_prompts, true_prompts, weak_probs and gold must have one "
                         "entry per item")
    torch.manual_seed(config.seed)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    base = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    model = get_peft_model(base, LoraConfig(
        r=config.lora_rank, lora_alpha=config.lora_alpha, target_modules=config.lora_targets,
        lora_dropout=0.0, bias="none", task_type="CAUSAL_LM"))
    model.to(device).train()
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad],
                                  lr=config.lora_lr)

    ids = torch.tensor(label_ids, device=device)
    weak_all = torch.as_tensor(weak_probs, dtype=torch.float32, device=device)
    gold_all = torch.as_tensor(gold, dtype=torch.float32, device=device)
    steps_per_epoch = -(-n // config.lora_batch_size)
    total = steps_per_epoch * config.lora_epochs
    generator = torch.Generator().manual_seed(config.seed)
    step = 0
    for _ in range(config.lora_epochs):
        order = torch.randperm(n, generator=generator).tolist()
        for s in range(0, n, config.lora_batch_size):
            batch = order[s:s + config.lora_batch_size]
            logits = _label_logits(model, tokenizer, [weak_prompts[i] for i in batch]
                                   + [true_prompts[i] for i in batch], ids, device)
            z = logits[:, 1] - logits[:, 0]  # the label-1 logit of the two label tokens
            loss = objective(z[:len(batch)], z[len(batch):], weak_all[batch],
                             gold_all[batch], step / total, config)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if on_step:
                on_step(step, total, loss.item())

    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    return out_dir


def load_adapter(url: str, name: str, path: Path, timeout_s: float = 120) -> None:
    """Load (or replace) LoRA adapter `name` on a vLLM server started with runtime
    LoRA updating. vLLM keeps prefix-cache blocks of an adapter reloaded from the same
    path: save each new adapter to a new folder."""
    import httpx

    endpoint = f"{url.rstrip('/')}/v1/load_lora_adapter"
    try:
        r = httpx.post(endpoint, json={"lora_name": name, "lora_path": str(path),
                                       "load_inplace": True}, timeout=timeout_s)
    except httpx.HTTPError as e:
        raise EngineError(f"vLLM server at {url} did not load adapter {name!r}: {e}") from e
    if r.status_code != 200:
        try:
            message = r.json()["error"]["message"]
        except (ValueError, KeyError, TypeError):
            message = r.text[:500]
        raise EngineError(f"vLLM server at {url} refused adapter {name!r} from {path} "
                          f"({r.status_code}): {message}")
