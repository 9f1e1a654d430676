"""`w2s experiment`: weak supervisor, zero-shot student, naive and confidence-loss
weak-to-strong, and the strong ceiling, with PGR and bootstrap intervals."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from rich.table import Table

from w2s.agent.evaluate import pgr_text
from w2s.agent.experiment import CEILING, WEAK, ExperimentConfig, Result, run_experiment
from w2s.agent.student import EngineError, ModelError

from .common import activity, console, fail, open_store, workspace_path


def experiment(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace.")],
    weak: Annotated[str, typer.Option(help="Weak supervisor: tfidf, probe:smollm2 (a small LM), minilm, minilm-ft, hf:PATH, hf-ft:PATH (trained on half A), or oracle:NAME (e.g. oracle:noisy, oracle:module:Class).")] = "tfidf",
    seeds: Annotated[int, typer.Option(min=1, help="Number of seeds (0..N-1).")] = 3,
    n_train: Annotated[int, typer.Option(min=4, help="Training items (halved: weak / student).")] = 1200,
    n_test: Annotated[int, typer.Option(min=2, help="Test items.")] = 1000,
    losses: Annotated[str, typer.Option(help="Truth-head losses on weak labels, comma-separated.")] = "xent,logconf",
    category: Annotated[Optional[list[str]], typer.Option(help="Only these categories (repeat).")] = None,
    held_out: Annotated[Optional[list[str]], typer.Option(help="Categories left out of training and tested apart (repeat).")] = None,
    mode: Annotated[str, typer.Option(help="probe (heads on frozen features) or lora (adapters served by vLLM).")] = "probe",
    engine: Annotated[str, typer.Option(help="vllm (a server) or hf (in-process).")] = "vllm",
    model: Annotated[Optional[str], typer.Option(help="Student model name or HF folder.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="A TOML file with any ExperimentConfig field; options override it.")] = None,
) -> None:
    """Reproduce weak-to-strong generalization on one dataset."""
    base: dict = {}
    if config is not None:
        try:
            base = tomllib.loads(config.read_text())
        except (OSError, tomllib.TOMLDecodeError) as e:
            fail(f"{config}: {e}")
    student = {**base.get("student", {}), "engine": engine}
    if model:
        student["model"] = model
    try:
        cfg = ExperimentConfig(**{**base, "dataset": dataset, "weak": weak,
                                  "seeds": list(range(seeds)), "n_train": n_train,
                                  "n_test": n_test, "categories": category,
                                  "held_out": held_out or base.get("held_out", []),
                                  "losses": [x.strip() for x in losses.split(",") if x.strip()],
                                  "student": student,
                                  "train": {**base.get("train", {}), "mode": mode}})
    except ValidationError as e:
        err = e.errors()[0]
        fail(f"{config or 'options'}: {'.'.join(map(str, err['loc']))}: {err['msg']}")
    with open_store(ctx) as store:
        try:
            with activity("experiment") as (say, track):
                result = run_experiment(store, cfg, workspace_path(ctx), say=say, track=track)
        except (EngineError, ModelError, ValueError) as e:
            fail(str(e))
    console.print(table(result, cfg))


def table(result: Result, cfg: ExperimentConfig) -> Table:
    t = Table("method", "test accuracy", "PGR [95% CI]",
              title=f"{cfg.dataset}: weak = {cfg.weak}, student = {cfg.student.model} "
                    f"({cfg.train.mode}), "
                    f"{len(cfg.seeds)} seeds, {result.n_train} train / {result.n_test} test, "
                    f"{result.seconds:.0f} s  ({result.experiment_id})")
    for method, acc in sorted(result.accuracy.items(), key=lambda kv: kv[1]):
        if method in result.pgr:
            cell = pgr_text(*result.pgr[method])
        else:
            cell = {WEAK: "0 (by definition)", CEILING: "1 (by definition)"}.get(method, "")
        t.add_row(method, f"{acc:.3f}", cell)
    return t
