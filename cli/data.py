"""`w2s data`: import, list and show datasets."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.table import Table

from w2s.store.datasets import SOURCES

from .common import console, err_console, fail, open_store, progress_bar

if TYPE_CHECKING:
    from w2s.store.datasets import LoadedDataset

app = typer.Typer(help="Import, list and show datasets.", no_args_is_help=True)


@app.command("import")
def import_(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(
        help=f"A dataset name ({', '.join(SOURCES)}) or a CSV/TSV/JSONL/JSON/Parquet file.")],
    name: Annotated[Optional[str], typer.Option(help="Name in the workspace (default: the source's).")] = None,
    data_dir: Annotated[Optional[Path], typer.Option(
        help="Folder of the shared datasets (default: $W2S_DATA_DIR or ../shared/data).")] = None,
    per_category: Annotated[Optional[int], typer.Option(
        min=1, help="Keep at most N items per split and category (a stable sample).")] = None,
    replace: Annotated[bool, typer.Option(help="Overwrite a dataset of the same name.")] = False,
    fmt: Annotated[Optional[str], typer.Option("--format", help="File format, if the extension does not say.")] = None,
    id_col: Annotated[Optional[str], typer.Option(help="Column with a unique id (default 'id', else the row number).")] = None,
    text_col: Annotated[Optional[str], typer.Option(help="Column with the text (default 'text').")] = None,
    label_col: Annotated[Optional[str], typer.Option(help="Column with the gold label, if any (default 'label').")] = None,
    category_col: Annotated[Optional[str], typer.Option(help="Column with the category (default 'category').")] = None,
    split_col: Annotated[Optional[str], typer.Option(help="Column with the split (default 'split', else 80/20 by hash).")] = None,
    group_col: Annotated[Optional[str], typer.Option(help="Column grouping items that answer one question.")] = None,
    question_col: Annotated[Optional[str], typer.Option(help="Column with a per-item question.")] = None,
    labels: Annotated[str, typer.Option(help="The two label names, for 0 and 1.")] = "no,yes",
    question: Annotated[str, typer.Option(help="The yes/no question asked of every item.")] = "Is this true?",
) -> None:
    """Import a dataset into the workspace, all or nothing."""
    from w2s.store.datasets import Columns, DataError, load_file, load_named, subsample

    path = Path(source)
    is_file = source not in SOURCES
    label_names = tuple(x.strip() for x in labels.split(","))
    if is_file and (len(label_names) != 2 or not all(label_names)):
        fail(f"--labels needs two names separated by a comma, got {labels!r}")
    given = {k: v for k, v in dict(id=id_col, text=text_col, label=label_col,
                                   category=category_col, split=split_col, group=group_col,
                                   question=question_col).items() if v is not None}
    with open_store(ctx) as store, progress_bar() as progress:
        reading = progress.add_task(f"reading {source}", total=None)
        try:
            if is_file:
                loaded = load_file(path, name or _default_name(path), Columns(**given),
                                   labels=label_names, question=question, fmt=fmt)
            else:
                loaded = load_named(source, data_dir)
        except (OSError, UnicodeError) as e:
            raise DataError(source, str(e)) from e
        if per_category:
            loaded = subsample(loaded, per_category)
        if name and not is_file:
            loaded = _renamed(loaded, name)
        progress.update(reading, total=len(loaded.items), completed=len(loaded.items))
        writing = progress.add_task(f"writing {loaded.dataset.name}", total=len(loaded.items))
        written = store.import_dataset(loaded.dataset, loaded.items, loaded.gold,
                                       replace=replace,
                                       on_progress=lambda n: progress.advance(writing, n))
        progress.update(writing, completed=len(loaded.items))
    for warning in loaded.warnings:
        err_console.print(f"[bold yellow]warning:[/] {warning}", highlight=False, soft_wrap=True)
    if not written:
        console.print(f"[bold]{loaded.dataset.name}[/] is already in the workspace, unchanged")
        return
    console.print(f"imported [bold]{loaded.dataset.name}[/]: {len(loaded.items):,} items, "
                  f"{len(loaded.gold):,} with gold labels")


def _default_name(path: Path) -> str:
    return path.stem.replace(" ", "_")


def _renamed(loaded: LoadedDataset, name: str) -> LoadedDataset:
    from w2s.store.datasets import LoadedDataset

    prefix = loaded.dataset.name + ":"
    rename = lambda s: name + ":" + s[len(prefix):] if s and s.startswith(prefix) else s  # noqa: E731
    return LoadedDataset(
        dataset=loaded.dataset.model_copy(update={"name": name}),
        items=[i.model_copy(update={"id": rename(i.id), "dataset": name,
                                    "group_id": rename(i.group_id)}) for i in loaded.items],
        gold=[g.model_copy(update={"item_id": rename(g.item_id)}) for g in loaded.gold])


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """The datasets in the workspace."""
    from w2s.store import queries
    from w2s.store.gold import gold_per_dataset

    with open_store(ctx) as store:
        rows = queries.dataset_summary(store)
        gold = gold_per_dataset(store)
    table = Table("dataset", "items", "gold", "splits", "categories", "description",
                  title="datasets")
    for name, n, splits, cats, desc in rows:
        table.add_row(name, f"{n:,}", f"{gold.get(name, 0):,}", str(splits), str(cats), desc)
    console.print(table if rows else "no datasets yet: try `w2s data import builtin`")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Dataset name.")],
    split: Annotated[Optional[str], typer.Option(help="Only this split.")] = None,
    category: Annotated[Optional[str], typer.Option(help="Only this category.")] = None,
    limit: Annotated[int, typer.Option(min=0, help="How many items to print.")] = 5,
) -> None:
    """Counts by split and category, and a few items."""
    with open_store(ctx) as store:
        dataset = store.dataset(name)
        counts = store.item_counts(name)
        items = store.items(name, split=split, category=category, limit=limit)
    console.print(f"[bold]{dataset.name}[/]: {dataset.description}\n"
                  f"question: {dataset.question}   labels: 0 = {dataset.labels[0]}, "
                  f"1 = {dataset.labels[1]}")
    splits = sorted({s for s, _, _ in counts})
    by = {(s, c): n for s, c, n in counts}
    table = Table("category", *splits, title="items by split")
    for cat in sorted({c for _, c, _ in counts}):
        table.add_row(cat, *(f"{by.get((s, cat), 0):,}" for s in splits))
    console.print(table)
    if items:
        sample = Table("id", "split", "category", "text", title="items", show_lines=True)
        for item in items:
            text = item.text if len(item.text) < 300 else item.text[:300] + "…"
            sample.add_row(item.id, item.split, item.category, text)
        console.print(sample)
    elif split or category:
        fail(f"no items in {name} with split={split!r} category={category!r}")
