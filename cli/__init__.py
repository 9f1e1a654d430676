"""The Typer command line: `w2s ...`."""
