"""Items/second scoring both heads: the vLLM client, the vLLM server's raw rate
(one request holding every prompt) and the in-process transformers engine,
measured in one run on the same items.

    python bench/student_throughput.py [--items 200] [--dataset builtin|sciq] [--url URL]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from w2s.agent.student import HEADS, Student, StudentConfig, VLLMServer, prepare
from w2s.agent.student.engines import collect
from w2s.store.datasets import generate, load_named


def items_for(name: str, n: int, data_dir: str | None):
    loaded = generate() if name == "builtin" else load_named(name, data_dir)
    test = [i for i in loaded.items if i.split == "test"] or loaded.items
    return loaded.dataset, test[:n]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--dataset", default="builtin")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--url", default=None, help="an existing vLLM server (else one is started)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=2)
    args = ap.parse_args()
    console = Console(width=130)

    model_dir = prepare()
    dataset, items = items_for(args.dataset, args.items, args.data_dir)
    workspace = Path(tempfile.mkdtemp(prefix="w2s-bench-"))
    server = None
    url = args.url
    if url is None:
        server = VLLMServer(model_dir, model_dir.name, workspace)
        with console.status("starting vLLM"):
            url = server.start()
    rows = []
    try:
        config = StudentConfig(url=url, served_name=model_dir.name, request_batch=args.batch_size,
                               concurrency=args.concurrency)
        with Student(config, workspace) as student:
            prompts = student.prompts(items, dataset)
            tokens = sum(len(student.prompter.tokenizer.encode(p, add_special_tokens=False))
                         for p in prompts)
            client = student.engine
            client._score(prompts[:4], student.prompter.label_ids)  # warm-up (kernel compile)
            with console.status("vLLM raw: one request with every prompt"):
                t = time.monotonic()
                raw = client._score(prompts, student.prompter.label_ids)
                rows.append(("vLLM server, raw (one request)", time.monotonic() - t))
            with console.status("vLLM through the w2s client"):
                t = time.monotonic()
                probs_v = student.predict(items, dataset)
                rows.append((f"vLLM server, w2s client (batch {args.batch_size}, "
                             f"{args.concurrency} in flight)", time.monotonic() - t))
        with Student(StudentConfig(engine="hf"), workspace) as local:
            local.predict(items[:4], dataset)  # warm-up
            with console.status("transformers in-process"):
                t = time.monotonic()
                probs_h = local.predict(items, dataset)
                rows.append(("transformers in-process (batch 16)", time.monotonic() - t))
    finally:
        if server is not None:
            server.stop()

    raw_v = collect(iter([(0, raw)]), len(prompts), 2)
    delta = max(np.abs(np.log(probs_v[h]) - np.log(probs_h[h])).max() for h in HEADS)
    raw_rate = len(prompts) / rows[0][1]
    table = Table(title=f"{len(items)} {dataset.name} items x 2 heads = {len(prompts)} prompts, "
                        f"{tokens / len(prompts):.0f} tokens each on average")
    for col in ("engine", "seconds", "prompts/s", "items/s (both heads)", "prompt tokens/s",
                "vs raw"):
        table.add_column(col, justify="left" if col == "engine" else "right")
    for name, seconds in rows:
        rate = len(prompts) / seconds
        table.add_row(name, f"{seconds:.1f}", f"{rate:.1f}", f"{rate / 2:.1f}",
                      f"{tokens / seconds:.0f}", f"{rate / raw_rate:.2f}x")
    console.print(table)
    console.print(f"max |Δ log P(yes)| vLLM vs transformers: {delta:.2e}; raw vs client: "
                  f"{np.abs(raw_v[1::2, 1] - np.log(probs_v[HEADS[1]])).max():.2e}")


if __name__ == "__main__":
    main()
