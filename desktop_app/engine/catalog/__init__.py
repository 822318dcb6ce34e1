"""The SQLite catalog: schema, photos and folders, the segment index (and its multi-index
arithmetic, ``mih.py``), the pair and grouping caches.

The hashes, the pair and grouping caches are rebuildable from the photos; the journal,
the ignore list, reference folders and presets are the user's data and every migration
and rebuild keeps them.
"""
