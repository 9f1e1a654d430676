"""A user's own CSV / JSONL / JSON / Parquet file, with a column mapping.

Everything is read and checked before anything is written, so a bad row
leaves the workspace exactly as it was.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from ..records import Dataset, Item
from .base import DataError, LoadedDataset, hash_split

FORMATS = {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl",
           ".json": "json", ".parquet": "parquet"}
TRUE_WORDS = {"1", "true", "yes"}
FALSE_WORDS = {"0", "false", "no"}


class Columns(BaseModel):
    """Which column of the file holds what. None = the file has no such column."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = "id"
    text: str = "text"
    label: str | None = "label"
    category: str | None = "category"
    split: str | None = "split"
    group: str | None = "group"
    question: str | None = None


def _bad_utf8(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _read_text(path: Path) -> str:
    # surrogateescape keeps undecodable bytes so the row and field can be named later
    return path.read_bytes().decode("utf-8-sig", errors="surrogateescape")


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(_read_text(path), newline=""), delimiter=delimiter,
                        strict=True)
    try:
        header = next(reader, None)
        if not header:
            raise DataError(path, "the file is empty (no header row)")
        header = [h.strip() for h in header]
        for n, cells in enumerate(reader, start=1):
            if not cells:
                continue
            if len(cells) != len(header):
                raise DataError(path, f"has {len(cells)} fields, the header has {len(header)} "
                                      f"(line {reader.line_num})", row=n)
            yield n, dict(zip(header, cells))
    except csv.Error as e:
        raise DataError(path, f"malformed CSV: {e} (line {reader.line_num})") from e


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    n = 0
    for line in _read_text(path).splitlines():
        if not line.strip():
            continue
        n += 1
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(path, f"invalid JSON: {e.msg} (column {e.colno})", row=n) from e
        if not isinstance(row, dict):
            raise DataError(path, "each line must be a JSON object", row=n)
        yield n, row


def _json_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        rows = json.loads(_read_text(path))
    except json.JSONDecodeError as e:
        raise DataError(path, f"invalid JSON: {e.msg} (line {e.lineno}, column {e.colno})") from e
    if not isinstance(rows, list):
        raise DataError(path, "a .json file must hold one array of objects")
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(path, "each element must be a JSON object", row=n)
        yield n, row


def _parquet_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as e:
        raise DataError(path, f"not a readable Parquet file: {e}") from e
    yield from enumerate(table.to_pylist(), start=1)


def _rows(path: Path, fmt: str) -> Iterator[tuple[int, dict[str, Any]]]:
    if fmt in ("csv", "tsv"):
        return _csv_rows(path, "," if fmt == "csv" else "\t")
    return {"jsonl": _jsonl_rows, "json": _json_rows, "parquet": _parquet_rows}[fmt](path)


def _label(value: Any, labels: list[str], path: Path, row: int, field: str) -> int | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None  # unlabeled item: no gold
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    word = str(value).strip().lower()
    names = [name.lower() for name in labels]
    if word in names:
        return names.index(word)
    if word in TRUE_WORDS:
        return 1
    if word in FALSE_WORDS:
        return 0
    raise DataError(path, f"label {value!r} is not in the label set {labels} "
                          "(or 0/1, false/true, no/yes)", row=row, field=field)


SPLITS = ("train", "test")


def load_file(path: str | Path, name: str, columns: Columns | None = None,
              labels: tuple[str, str] = ("no", "yes"), question: str = "Is this true?",
              fmt: str | None = None) -> LoadedDataset:
    path = Path(path)
    columns = columns or Columns()
    if not path.is_file():
        raise DataError(path, "no such file")
    fmt = fmt or FORMATS.get(path.suffix.lower())
    if fmt not in FORMATS.values():
        raise DataError(path, f"unknown format; name one of {sorted(set(FORMATS.values()))} "
                              "with --format")
    explicit = columns.model_fields_set
    out = LoadedDataset(Dataset(name=name, labels=list(labels), question=question,
                                description=f"imported from {path.name}", source=str(path)))
    seen: dict[str, int] = {}
    said: dict[str, tuple[int, int]] = {}  # text -> (first row, its label)
    mapped: dict[str, str] = {}  # role -> column, once checked against the first row
    for n, row in _rows(path, fmt):
        if not mapped:
            mapped = _check_columns(path, columns, explicit, row)
            mapped_columns = set(mapped.values())
        for key, value in row.items():
            if isinstance(value, str) and _bad_utf8(value):
                raise DataError(path, "is not valid UTF-8", row=n, field=key)
        missing = [c for c in mapped_columns if c not in row]
        if missing:
            raise DataError(path, "missing in this row", row=n, field=missing[0])

        def cell(role: str) -> str | None:
            if role not in mapped:
                return None
            value = row[mapped[role]]
            return None if value is None else str(value).strip()

        text = cell("text")
        if not text:
            raise DataError(path, "text is empty", row=n, field=mapped["text"])
        source_id = cell("id") if "id" in mapped else str(n)
        if not source_id:
            raise DataError(path, "id is empty", row=n, field=mapped["id"])
        if source_id in seen:
            raise DataError(path, f"duplicate id {source_id!r} (first seen in row {seen[source_id]})",
                            row=n, field=mapped.get("id"))
        seen[source_id] = n
        group = cell("group") or None
        split = cell("split") if "split" in mapped else hash_split(group or source_id)
        if not split:
            raise DataError(path, "split is empty", row=n, field=mapped["split"])
        split = split.lower()
        if split not in SPLITS:
            raise DataError(path, f"split {split!r} is neither {' nor '.join(SPLITS)}: campaigns "
                                  "and experiments use only those (rename it, or leave the "
                                  "column out to split 80/20 by hash)",
                            row=n, field=mapped["split"])
        category = cell("category") if "category" in mapped else "default"
        if not category:
            raise DataError(path, "category is empty", row=n, field=mapped["category"])
        label = (_label(row[mapped["label"]], list(labels), path, n, mapped["label"])
                 if "label" in mapped else None)
        if label is not None:
            first, before = said.setdefault(text, (n, label))
            if before != label:
                out.warnings.append(f"{path}: rows {first} and {n} have the same text and "
                                    f"different labels ({before} and {label})")
        extra = {k: v for k, v in row.items() if k not in mapped_columns}
        out.add(Item(id=f"{name}:{source_id}", dataset=name, split=split, category=category,
                     text=text, group_id=f"{name}:{group}" if group else None,
                     question=cell("question") or None, extra=_jsonable(extra)), label)
    if not out.items:
        raise DataError(path, "has no data rows")
    return out


def _check_columns(path: Path, columns: Columns, explicit: set[str],
                   first_row: dict[str, Any]) -> dict[str, str]:
    """role -> column. A column named on purpose must exist; a default may be absent."""
    present = list(first_row)
    mapped = {}
    for role, column in columns.model_dump().items():
        if column is None:
            continue
        if column in first_row:
            mapped[role] = column
        elif role in explicit or role == "text":
            raise DataError(path, f"no such column (columns are: {', '.join(present)})",
                            field=column)
    return mapped


def _jsonable(extra: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(extra, default=str))
