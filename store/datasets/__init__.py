"""Datasets with categories: the shared public sets, a user's own file, and a
generated task that needs no files."""

from w2s._lazy import exports

BUILTIN = "builtin"
SHARED = ("ethics", "mmlu", "sciq", "truthfulqa", "amazon", "hh")  # shared.py's loaders
SOURCES = [BUILTIN, *SHARED]


def load_named(name: str, data_path: str | None = None):
    """A dataset by name (a LoadedDataset): the generated task or one of the shared ones."""
    from .base import DataError
    from .builtin import generate
    from .shared import SHARED_LOADERS, data_dir

    if name == BUILTIN:
        return generate()
    if name not in SHARED_LOADERS:
        raise DataError(name, f"unknown dataset; known: {', '.join(SOURCES)}, or a file path")
    return SHARED_LOADERS[name](data_dir(data_path))


_FROM = {**dict.fromkeys(["DataError", "LoadedDataset", "subsample"], ".base"),
         **dict.fromkeys(["BuiltinTask", "generate"], ".builtin"),
         **dict.fromkeys(["Columns", "load_file"], ".files"),
         **dict.fromkeys(["SHARED_LOADERS", "data_dir"], ".shared")}
__all__ = ["BUILTIN", "SHARED", "SOURCES", "load_named", *_FROM]
__getattr__, __dir__ = exports(__name__, _FROM)
