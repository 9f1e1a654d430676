"""Zero-shot answers against the feature step: items/second of each, from one run on
the same items, with the answers' largest difference from today's default and their
accuracy.

    python bench/zero_shot_throughput.py [--model NAME|PATH] [--items 200]
        [--rows float32:128,float32:32,bfloat16:32]

Rows: the feature step (pooling server on the truncated copy, short prompt), then the
zero-shot answers (the generate path: the label tokens' log-probs under the chat
prompt) per dtype and KV block size. A prefix-cache hit needs a whole block of the
shared system turn: vLLM's CPU default block (128) never fills one, 32 (the smallest
its CPU attention takes) does. FLOP/s counts 2 x the layers' non-embedding parameters
per prompt token computed (tokens found in the prefix cache left out), against the
CPU's fp32 peak at its nominal clock (cores x 32 FLOP per cycle: two 256-bit FMA
pipes, as on Zen 4) and twice that for bf16 (avx512_bf16); a share over 100 % means
the cores ran above their nominal clock.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from w2s.agent.student import FEATURE_DEPTH, Head, ServeConfig, Student, StudentConfig
from w2s.agent.student.models import DEFAULT_MODEL, feature_layer, n_layers, resolve, truncated
from w2s.store.datasets import generate


def layer_params(folder: Path) -> float:
    c = json.loads((folder / "config.json").read_text())
    h, i = c["hidden_size"], c["intermediate_size"]
    kv = h // c["num_attention_heads"] * c.get("num_key_value_heads", c["num_attention_heads"])
    return 2 * h * h + 2 * h * kv + 3 * h * i


def peak_flops() -> float:
    mhz = max(float(m) for m in re.findall(r"cpu MHz\s*:\s*([\d.]+)",
                                           Path("/proc/cpuinfo").read_text()))
    return (os.cpu_count() or 1) * 32 * mhz * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--items", type=int, default=200)
    ap.add_argument("--rows", default="float32:128,float32:32,bfloat16:32",
                    help="dtype:block of each zero-shot row")
    args = ap.parse_args()
    console = Console(width=160)
    full = resolve(args.model)
    layer = feature_layer(full, FEATURE_DEPTH)
    loaded = generate()
    items = np.random.default_rng(0).permutation(loaded.items)[:args.items].tolist()
    gold = {g.item_id: g.label for g in loaded.gold}
    y = np.array([gold[i.id] for i in items])
    workspace = Path(tempfile.mkdtemp(prefix="w2s-bench-"))
    per_layer, peak = layer_params(full), peak_flops()
    rows = []

    def timed(name, layers, prompts, tokenizer, cached, run):
        t = time.monotonic()
        out = run()
        seconds = time.monotonic() - t
        ids = [tokenizer.encode(p, add_special_tokens=False) for p in prompts]
        shared = len(os.path.commonprefix(ids)) if cached else 0
        computed = sum(len(i) for i in ids) - (len(ids) - 1) * (shared // cached * cached
                                                                 if cached else 0)
        rows.append((name, len(prompts) / seconds, np.mean([len(i) for i in ids]),
                     computed / len(prompts), 2 * per_layer * layers * computed / seconds, out))
        console.log(f"{name}: {len(prompts) / seconds:.2f} items/s")
        return out

    serve = ServeConfig(enable_lora=False)
    feats = Student(StudentConfig(model=str(truncated(full, layer)), serve=serve.model_copy(
        update={"runner": "pooling"})), workspace, chat=False)
    prompts = feats.feature_prompts(items, loaded.dataset)
    with feats:
        feats.engine.features(prompts[:8])  # warm-up
        timed(f"features: layer {layer}, short prompt", layer, prompts,
              feats.prompter.tokenizer, 0, lambda: feats.engine.features(prompts))

    depth = n_layers(full)
    for row in [r for r in args.rows.split(",") if r]:
        dtype, block = row.split(":")
        student = Student(StudentConfig(model=str(full), serve=serve.model_copy(
            update={"block_size": int(block), "dtype": dtype})), workspace)
        chat = student.prompts(items, loaded.dataset, [Head.true])
        with student:  # the server's start and a warm-up stay outside the timing
            student.predict(items[:8], loaded.dataset, [Head.true])
            timed(f"zero-shot: {dtype}, block {block}", depth, chat, student.prompter.tokenizer,
                  int(block), lambda: student.predict(items, loaded.dataset, [Head.true])[Head.true])

    feature_rate, reference = rows[0][1], rows[1][5]
    table = Table(title=f"{len(items)} built-in items, {full.name}, vLLM on the CPU "
                        f"(fp32 peak at the nominal clock {peak / 1e9:.0f} GFLOP/s)")
    for col in ("step", "items/s", "x features", "tokens/prompt (computed)",
                "GFLOP/s (share of peak)", f"max |dp| vs {rows[1][0].split(': ')[1]}",
                "accuracy (p > 0.5)"):
        table.add_column(col, justify="left" if col == "step" else "right")
    for name, rate, tokens, computed, flops, out in rows:
        answers = not name.startswith("features")
        top = peak * (2 if "bfloat16" in name else 1)
        table.add_row(name, f"{rate:.2f}", f"{rate / feature_rate:.2f}x",
                      f"{tokens:.0f} ({computed:.0f})", f"{flops / 1e9:.0f} ({flops / top:.0%})",
                      f"{np.abs(out - reference).max():.1e}" if answers else "",
                      f"{np.mean((out > 0.5) == y):.3f}" if answers else "")
    console.print(table)


if __name__ == "__main__":
    main()
