"""Doppel's engine: hashing, the catalog, exact similarity search and grouping.

Plain Python with numpy, Pillow and SQLite; it never imports Qt, so the command line,
scripts and worker processes use it without a display. ``library.Library`` is the front
door.
"""
