"""Gold labels are kept apart: only the ground-truth oracle and evaluation read them."""

import re
from pathlib import Path

import w2s

ALLOWED = {"store/gold.py", "oracles/ground_truth.py", "agent/evaluate.py",
           "audit/figures.py"}  # the audit is evaluation
PATTERN = re.compile(r"store\.gold\b|from \.gold import|from \.\.store\.gold|\bFROM gold\b|"
                     r"\bJOIN gold\b", re.IGNORECASE)


def test_only_allowed_modules_touch_gold():
    root = Path(w2s.__file__).parent
    offenders = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("tests/", "bench/", ".venv/", "build/")) or rel in ALLOWED:
            continue
        if rel in {"store/db.py", "cli/data.py"}:
            # the store deletes gold with its dataset and counts gold rows; it never returns labels
            text = path.read_text()
            assert "SELECT g.item_id, g.label" not in text and "g.label" not in text, rel
            continue
        if PATTERN.search(path.read_text()):
            offenders.append(rel)
    assert offenders == []
