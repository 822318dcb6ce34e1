"""Deciding what to keep.

Keep rules, plans of marks, presets, "not copies", RAW+JPEG folding and export.
"""
