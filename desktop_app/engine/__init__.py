"""Doppel's engine: hashing, the catalog, exact similarity search and grouping.

Plain Python with numpy, Pillow and SQLite; it never imports Qt, so the command line,
scripts and worker processes use it without a display. ``library.Library`` (folders,
scans, pairs, groups, queries) and ``cleanup.Cleanup`` (keep rules, not-copies,
reference folders, file operations) are the front doors; docs/architecture.md draws the
packages behind them.
"""
