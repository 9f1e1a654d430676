"""Experiments on the supervisor: the student writes contrast items (edits of pool
items meant to keep or to flip their truth), the weak supervisor labels them, and
its reactions say which surface changes move it (report.py)."""
