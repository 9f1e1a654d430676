"""One dependency direction, imports inside functions included:

    store <- agent.student, agent.training <- oracles, checks <- agent (the campaign
    and the experiment) <- audit <- cli

A module may import its own layer and the layers to its left, never to its right."""

import ast
from pathlib import Path

import w2s

LAYERS = [("store",), ("agent.student", "agent.training"), ("oracles", "checks"), ("agent",),
          ("audit",), ("cli",)]


def layer(module: str) -> int | None:
    """The layer of a module given relative to the package (agent.nodes), by its
    longest matching prefix; None for modules outside the layers (w2s._lazy)."""
    best = None
    for k, prefixes in enumerate(LAYERS):
        for p in prefixes:
            if (module == p or module.startswith(p + ".")) and (best is None or len(p) > best[1]):
                best = (k, len(p))
    return None if best is None else best[0]


def imports(path: Path, module: str):
    """Modules of the package that a file imports, as agent.nodes-style names."""
    package = module.split(".")
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            elif node.module and node.module.startswith("w2s."):
                name = node.module[4:]
            else:
                continue
            yield node.lineno, name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("w2s."):
                    yield node.lineno, alias.name[4:]


def test_dependencies_point_one_way():
    root = Path(w2s.__file__).parent
    wrong = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in ("tests", "bench", "build", ".venv", "examples"):
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1] + ["__init__"]
        module = ".".join(parts)
        own = layer(module)
        if own is None:
            continue
        for line, target in imports(path, module):
            target = target.removesuffix(".__init__")
            theirs = layer(target)
            if theirs is not None and theirs > own:
                wrong.append(f"{rel}:{line} imports {target}")
    assert wrong == []


def test_no_raw_sql_outside_the_store():
    """Every statement is a named query in store/ (`w2s audit sql` runs the user's own)."""
    root = Path(w2s.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("store/", "tests/", "build/", ".venv/")):
            continue
        for k, line in enumerate(path.read_text().splitlines(), 1):
            if (".sql(" in line or "con.execute(" in line) and rel != "cli/audit.py":
                found.append(f"{rel}:{k}")
    assert found == []
