"""Probe-mode feature speed: items/second through w2s's feature step (the vLLM client,
batched and concurrent, on the truncated model, with the cache write) next to the
engine's raw rate for the same prompts (one request holding every prompt), in one run.
Targets (issue 13): >= 2.5 items/s on 2 idle cores, and >= 0.9x the raw rate.

    python bench/feature_throughput.py [--model NAME|PATH] [--depth 0.67] [--items 300]
        [--repeats 2] [--full]   # --full: also the whole model with the chat prompt
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from w2s.agent.student import FEATURE_DEPTH, Head, ServeConfig, Student, StudentConfig, VLLMServer
from w2s.agent.student.models import DEFAULT_MODEL, feature_layer, resolve, truncated
from w2s.agent.training.trainers import prompt_features
from w2s.store.datasets import generate


def measure(console: Console, folder: Path, prompts_of, items, dataset, workspace: Path,
            repeats: int, chat: bool) -> dict:
    server = VLLMServer(folder, folder.name, workspace, ServeConfig(runner="pooling",
                                                                    enable_lora=False))
    with console.status(f"starting a pooling server for {folder.name}"):
        t = time.monotonic()
        url = server.start()
        startup = time.monotonic() - t
    try:
        config = StudentConfig(model=str(folder), url=url, served_name=folder.name)
        with Student(config, workspace, chat=chat) as student:
            prompts = prompts_of(student)
            tokens = np.mean([len(student.prompter.tokenizer.encode(p, add_special_tokens=False))
                              for p in prompts])
            student.engine._embed(prompts[:8])  # warm-up
            raw, ours = [], []
            for r in range(repeats):  # alternated, so drift hits both alike
                with console.status(f"raw: one request with {len(prompts)} prompts ({r + 1})"):
                    t = time.monotonic()
                    student.engine._embed(prompts)
                    raw.append(time.monotonic() - t)
                with console.status(f"w2s feature step ({r + 1})"):
                    t = time.monotonic()
                    prompt_features(student, prompts, workspace / f"cache-{r}", lambda _: None)
                    ours.append(time.monotonic() - t)
    finally:
        server.stop()
    return {"startup": startup, "tokens": tokens, "raw": raw, "ours": ours}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--depth", type=float, default=FEATURE_DEPTH)
    ap.add_argument("--items", type=int, default=300)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--full", action="store_true")
    args = ap.parse_args()
    console = Console(width=150)
    full = resolve(args.model)
    layer = feature_layer(full, args.depth)
    loaded = generate()
    items = np.random.default_rng(0).permutation(loaded.items)[:args.items].tolist()
    workspace = Path(tempfile.mkdtemp(prefix="w2s-bench-"))
    runs = {f"layer {layer} of {full.name}, short prompt": measure(
        console, truncated(full, layer), lambda s: s.feature_prompts(items, loaded.dataset),
        items, loaded.dataset, workspace, args.repeats, chat=False)}
    if args.full:
        runs[f"all layers of {full.name}, truth-head chat prompt"] = measure(
            console, full, lambda s: s.prompts(items, loaded.dataset, [Head.true]),
            items, loaded.dataset, workspace, args.repeats, chat=True)

    table = Table(title=f"{len(items)} built-in items, {args.repeats} repeats (mean; range), "
                        "vLLM pooling server on the CPU")
    for col in ("features", "tokens/prompt", "server start", "raw items/s", "w2s items/s",
                "w2s / raw", "target >= 2.5 items/s, >= 0.9x"):
        table.add_column(col, justify="left" if col == "features" else "right")
    for name, m in runs.items():
        raw, ours = len(items) / np.array(m["raw"]), len(items) / np.array(m["ours"])
        ratio = ours.mean() / raw.mean()
        table.add_row(name, f"{m['tokens']:.0f}", f"{m['startup']:.0f} s",
                      f"{raw.mean():.2f} ({raw.min():.2f}-{raw.max():.2f})",
                      f"{ours.mean():.2f} ({ours.min():.2f}-{ours.max():.2f})", f"{ratio:.2f}x",
                      "met" if ours.mean() >= 2.5 and ratio >= 0.9 else "not met")
    console.print(table)


if __name__ == "__main__":
    main()
