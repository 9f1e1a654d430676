"""How long `w2s` takes to start: wall time of a few commands against a bare
`python -c pass`, median and range over repeats, in a scratch workspace holding
the built-in dataset and one campaign that has not started.

    python bench/cli_startup.py [--repeats 7]

Targets (issue 15, 2 cores): `w2s --help` under 0.5 s, `w2s campaign status` under 1.5 s.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table


def timed(cmd: list[str], repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True)
        out.append(time.perf_counter() - start)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=7)
    args = ap.parse_args()
    w2s = [str(Path(sys.executable).parent / "w2s")]  # the entry point of this environment
    with tempfile.TemporaryDirectory() as tmp:
        ws = str(Path(tmp) / "ws")
        subprocess.run([*w2s, "-w", ws, "data", "import", "builtin"], check=True, capture_output=True)
        config = Path(tmp) / "c.toml"
        config.write_text('dataset = "builtin"\n')
        subprocess.run([*w2s, "-w", ws, "campaign", "init", "--name", "c", str(config)],
                       check=True, capture_output=True)
        rows = [("python -c pass", [sys.executable, "-c", "pass"], None),
                ("w2s --help", [*w2s, "--help"], 0.5),
                ("w2s data list", [*w2s, "-w", ws, "data", "list"], None),
                ("w2s campaign status", [*w2s, "-w", ws, "campaign", "status"], 1.5),
                ("w2s campaign status c", [*w2s, "-w", ws, "campaign", "status", "c"], 1.5)]
        t = Table("command", "median s", "min s", "max s", "target s",
                  title=f"w2s start-up, {args.repeats} repeats each")
        for name, cmd, target in rows:
            s = timed(cmd, args.repeats)
            t.add_row(name, f"{statistics.median(s):.2f}", f"{min(s):.2f}", f"{max(s):.2f}",
                      "" if target is None else f"< {target}")
    Console().print(t)


if __name__ == "__main__":
    main()
