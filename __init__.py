"""w2s: weak-to-strong campaigns."""

__version__ = "0.1.0"
