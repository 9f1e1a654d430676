"""Datasets with categories: the shared public sets, a user's own file, and a
generated task that needs no files."""

from .base import DataError, LoadedDataset, subsample
from .builtin import BuiltinTask, generate
from .files import Columns, load_file
from .shared import SHARED_LOADERS, data_dir

BUILTIN = "builtin"
SOURCES = [BUILTIN, *SHARED_LOADERS]


def load_named(name: str, data_path: str | None = None) -> LoadedDataset:
    """A dataset by name: the generated task or one of the shared datasets."""
    if name == BUILTIN:
        return generate()
    if name not in SHARED_LOADERS:
        raise DataError(name, f"unknown dataset; known: {', '.join(SOURCES)}, or a file path")
    return SHARED_LOADERS[name](data_dir(data_path))


__all__ = ["BUILTIN", "SOURCES", "BuiltinTask", "Columns", "DataError", "LoadedDataset",
           "SHARED_LOADERS", "data_dir", "generate", "load_file", "load_named", "subsample"]
