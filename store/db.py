"""The workspace's DuckDB file: migrations, transactions, idempotent writes."""

from __future__ import annotations

import hashlib
import json
import re
import threading
import typing
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import pyarrow as pa

from .records import Dataset, Gold, Item, Record
from .schema import LATEST, MIGRATIONS

R = TypeVar("R", bound=Record)
DB_FILE = "w2s.duckdb"


class StoreError(RuntimeError):
    pass


def _is_dict_field(cls: type[Record], name: str) -> bool:
    annotation = cls.model_fields[name].annotation
    return annotation is dict or typing.get_origin(annotation) is dict


class Store:
    """One DuckDB file. Every write runs in a transaction; writes of records
    are "insert unless the key exists", so retrying a write is harmless."""

    def __init__(self, path: str | Path, read_only: bool = False):
        self.path = Path(path)
        if read_only and not self.path.exists():
            raise StoreError(f"no workspace database at {self.path}")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path), read_only=read_only)
        except duckdb.IOException as e:
            raise StoreError(f"cannot open {self.path}: {e}") from e
        self._lock = threading.RLock()
        self._depth = 0
        if not read_only:
            self._migrate()
        elif self.version() != LATEST:
            raise StoreError(f"{self.path} has schema version {self.version()}, "
                             f"this w2s reads version {LATEST}; open it once read-write to migrate")

    @classmethod
    def in_workspace(cls, workspace: str | Path, read_only: bool = False) -> "Store":
        return cls(Path(workspace) / DB_FILE, read_only=read_only)

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ---------------------------------------------------------------

    def version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
        ).fetchone()[0]
        if not exists:
            return 0
        return self.con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]

    def _migrate(self) -> None:
        current = self.version()
        if current > LATEST:
            raise StoreError(f"{self.path} has schema version {current}, newer than this "
                             f"w2s knows ({LATEST}); upgrade w2s")
        for version in range(current + 1, LATEST + 1):
            with self.transaction():
                self.con.execute("CREATE TABLE IF NOT EXISTS schema_version "
                                 "(version INTEGER PRIMARY KEY, applied_at TIMESTAMP DEFAULT now())")
                self.con.execute(MIGRATIONS[version - 1])
                self.con.execute("INSERT INTO schema_version (version) VALUES (?)", [version])

    # -- transactions ---------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All writes inside commit together or not at all. Nests."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self.con.begin()
            self._depth += 1
            try:
                yield self.con
            except BaseException:
                self._depth -= 1
                if outer:
                    self.con.rollback()
                raise
            self._depth -= 1
            if outer:
                self.con.commit()

    # -- generic records ------------------------------------------------------

    def write(self, records: Iterable[Record]) -> None:
        """Insert records, skipping any whose key is already present."""
        by_class: dict[type[Record], list[Record]] = {}
        for record in records:
            by_class.setdefault(type(record), []).append(record)
        with self.transaction():
            for cls, rows in by_class.items():
                self._insert(cls, rows)

    def _insert(self, cls: type[Record], records: list[Record]) -> None:
        rows = [self._to_row(r) for r in records]
        columns = list(rows[0])
        table = pa.Table.from_pylist(rows)
        self.con.register("_w2s_rows", table)
        try:
            cols = ", ".join(columns)
            self.con.execute(f"INSERT INTO {cls.table} ({cols}) SELECT {cols} FROM _w2s_rows "
                             "ON CONFLICT DO NOTHING")
        finally:
            self.con.unregister("_w2s_rows")

    @staticmethod
    def _to_row(record: Record) -> dict[str, Any]:
        row = record.model_dump()
        return {k: json.dumps(v, sort_keys=True) if isinstance(v, dict) else v
                for k, v in row.items()}

    def select(self, cls: type[R], where: str = "", params: list[Any] | None = None,
               order_by: str | None = None, limit: int | None = None) -> list[R]:
        """Read records of one kind. `where` is SQL with `?` placeholders."""
        if cls is Gold:
            raise StoreError("gold labels are read through w2s.store.gold only")
        sql = f"SELECT * FROM {cls.table}"
        if where:
            sql += f" WHERE {where}"
        sql += f" ORDER BY {order_by or ', '.join(cls.key)}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        with self._lock:
            cur = self.con.execute(sql, params or [])
            names = [d[0] for d in cur.description]
            rows = cur.fetchall()
        fields = cls.model_fields
        out = []
        for row in rows:
            values = {n: v for n, v in zip(names, row) if n in fields}
            for name, value in values.items():
                if isinstance(value, str) and _is_dict_field(cls, name):
                    values[name] = json.loads(value)
            out.append(cls.model_validate(values))
        return out

    def set_query_status(self, query_ids: list[str], status: str) -> None:
        if query_ids:
            with self.transaction():
                self.con.execute("UPDATE queries SET status = ? WHERE list_contains(?, id)",
                                 [status, query_ids])

    def sql(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        """Rows of one statement on any table but gold, which only w2s.store.gold reads."""
        if _names_gold(sql):
            raise StoreError("the gold table is read through w2s.store.gold only")
        return self._execute(sql, params)

    def _execute(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        with self._lock:
            return self.con.execute(sql, params or []).fetchall()

    # -- datasets -------------------------------------------------------------

    def import_dataset(self, dataset: Dataset, items: list[Item], gold: list[Gold],
                       replace: bool = False,
                       on_progress: Callable[[int], None] | None = None) -> bool:
        """Write a dataset with its items and gold labels, all or nothing. Importing
        the same content again changes nothing and returns False."""
        digest = hashlib.sha256()
        for record in (*items, *gold):
            digest.update(record.model_dump_json().encode())
        dataset = dataset.model_copy(update={"fingerprint": digest.hexdigest()})
        with self.transaction():
            existing = self.sql("SELECT fingerprint FROM datasets WHERE name = ?", [dataset.name])
            if existing:
                if existing[0][0] == dataset.fingerprint and not replace:
                    return False
                if not replace:
                    raise StoreError(f"dataset {dataset.name!r} is already in this workspace "
                                     "(import with --replace to overwrite it)")
                self.delete_dataset(dataset.name)
            self.write([dataset])
            for start in range(0, len(items), 20_000):
                chunk = items[start:start + 20_000]
                self._insert(Item, chunk)
                if on_progress:
                    on_progress(len(chunk))
            if gold:
                self._insert(Gold, gold)
        return True

    def delete_dataset(self, name: str) -> None:
        with self.transaction():
            if self.sql("SELECT 1 FROM campaigns WHERE dataset = ?", [name]):
                raise StoreError(f"dataset {name!r} is used by a campaign; it cannot be replaced")
            self._execute("DELETE FROM gold WHERE item_id IN "
                          "(SELECT id FROM items WHERE dataset = ?)", [name])
            self.sql("DELETE FROM items WHERE dataset = ?", [name])
            self.sql("DELETE FROM datasets WHERE name = ?", [name])

    def datasets(self) -> list[Dataset]:
        return self.select(Dataset)

    def dataset(self, name: str) -> Dataset:
        found = self.select(Dataset, "name = ?", [name])
        if not found:
            known = ", ".join(d.name for d in self.datasets()) or "none"
            raise StoreError(f"no dataset {name!r} in this workspace (have: {known})")
        return found[0]

    def items(self, dataset: str, split: str | None = None, category: str | None = None,
              limit: int | None = None) -> list[Item]:
        where, params = "dataset = ?", [dataset]
        if split is not None:
            where, params = where + " AND split = ?", params + [split]
        if category is not None:
            where, params = where + " AND category = ?", params + [category]
        return self.select(Item, where, params, limit=limit)

    def item_counts(self, dataset: str) -> list[tuple[str, str, int]]:
        """(split, category, n) for a dataset."""
        return self.sql("SELECT split, category, count(*) FROM items WHERE dataset = ? "
                        "GROUP BY ALL ORDER BY ALL", [dataset])


_LITERAL = re.compile(r"'(?:[^']|'')*'")
_GOLD = re.compile(r'(?<!\w)"?gold"?(?![\w"])', re.IGNORECASE)


def _names_gold(sql: str) -> bool:
    """Whether a statement names the gold table (string literals aside)."""
    return bool(_GOLD.search(_LITERAL.sub("''", sql)))
