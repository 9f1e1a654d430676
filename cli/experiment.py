"""`w2s experiment`: weak supervisor, zero-shot student, naive and confidence-loss
weak-to-strong, and the strong ceiling, with PGR and bootstrap intervals."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from .common import activity, console, fail, open_store, workspace_path

if TYPE_CHECKING:
    from w2s.agent.experiment import ExperimentConfig, Result

# the defaults are ExperimentConfig's; the help repeats them (a unit test keeps them equal)
HELP_DEFAULTS = {"weak": "tfidf", "seeds": 3, "n_train": 1200, "n_test": 1000,
                 "losses": "xent,logconf", "mode": "probe", "engine": "vllm"}


def experiment(
    ctx: typer.Context,
    dataset: Annotated[str, typer.Argument(help="Dataset name in the workspace.")],
    weak: Annotated[Optional[str], typer.Option(help="Weak supervisor: tfidf, probe:smollm2 (a small LM), minilm, minilm-ft, hf:PATH, hf-ft:PATH (trained on half A), or oracle:NAME (e.g. oracle:noisy, oracle:module:Class). [default: tfidf]")] = None,
    seeds: Annotated[Optional[int], typer.Option(min=1, help="Number of seeds (0..N-1). [default: 3]")] = None,
    n_train: Annotated[Optional[int], typer.Option(min=4, help="Training items (halved: weak / student). [default: 1200]")] = None,
    n_test: Annotated[Optional[int], typer.Option(min=2, help="Test items. [default: 1000]")] = None,
    losses: Annotated[Optional[str], typer.Option(help="Truth-head losses on weak labels, comma-separated. [default: xent,logconf]")] = None,
    category: Annotated[Optional[list[str]], typer.Option(help="Only these categories (repeat).")] = None,
    held_out: Annotated[Optional[list[str]], typer.Option(help="Categories left out of training and tested apart (repeat).")] = None,
    mode: Annotated[Optional[str], typer.Option(help="probe (heads on frozen features) or lora (adapters served by vLLM). [default: probe]")] = None,
    engine: Annotated[Optional[str], typer.Option(help="vllm (a server) or hf (in-process). [default: vllm]")] = None,
    model: Annotated[Optional[str], typer.Option(help="Student model name or HF folder.")] = None,
    config: Annotated[Optional[Path], typer.Option(help="A TOML or YAML file with any ExperimentConfig field; the options you type override it.")] = None,
) -> None:
    """Reproduce weak-to-strong generalization on one dataset."""
    from pydantic import ValidationError

    from w2s.agent.config import ConfigError, read_settings
    from w2s.agent.experiment import ExperimentConfig, run_experiment
    from w2s.agent.student import EngineError, ModelError

    raw: dict = {}
    if config is not None:
        try:
            raw = read_settings(config)
        except ConfigError as e:
            fail(str(e))
    typed = {name for name in ("weak", "seeds", "n_train", "n_test", "losses", "category",
                               "held_out", "mode", "engine", "model")
             # by name: typer ships its own copy of click's ParameterSource
             if getattr(ctx.get_parameter_source(name), "name", None) == "COMMANDLINE"}
    try:
        cfg = ExperimentConfig(**overrides(raw, dataset, typed, locals()))
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


def overrides(raw: dict, dataset: str, typed: set[str], given: dict) -> dict:
    """The config file's fields with the options the user typed on top (an option left
    at its default never overrides the file)."""
    out = {**raw, "dataset": dataset, "student": {**raw.get("student", {})},
           "train": {**raw.get("train", {})}}
    plain = {"weak": "weak", "n_train": "n_train", "n_test": "n_test", "category": "categories",
             "held_out": "held_out"}
    for option, field in plain.items():
        if option in typed:
            out[field] = given[option]
    if "seeds" in typed:
        out["seeds"] = list(range(given["seeds"]))
    if "losses" in typed:
        out["losses"] = [x.strip() for x in given["losses"].split(",") if x.strip()]
    for option, section in (("mode", "train"), ("engine", "student"), ("model", "student")):
        if option in typed:
            out[section][option] = given[option]
    return out


def table(result: Result, cfg: ExperimentConfig) -> Table:
    from w2s.agent.evaluate import pgr_text
    from w2s.agent.experiment import CEILING, WEAK

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
