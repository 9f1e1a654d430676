"""A wheel (non-editable install, as CI does) ships only the packages pyproject lists:
a new sub-folder that is missing from the list imports in the repo and fails in CI."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_package_folder_is_listed_in_pyproject():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(["w2s", *p.parent.relative_to(ROOT).parts])
             for p in ROOT.rglob("__init__.py")
             if not {".venv", "tests", "build"} & set(p.relative_to(ROOT).parts)
             and not any(part.startswith(".") for part in p.relative_to(ROOT).parts)}
    assert found == listed, f"unlisted: {sorted(found - listed)}, stale: {sorted(listed - found)}"


def test_test_modules_have_unique_basenames():
    """pytest's default import mode imports tests/unit/x.py and tests/integration/x.py
    as the same module `x`: collection fails in CI."""
    names = [p.name for p in (ROOT / "tests").rglob("test_*.py")]
    assert not [n for n in set(names) if names.count(n) > 1]
