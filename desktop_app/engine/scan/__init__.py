"""Indexing folders: walking, change detection and the crash-isolating worker pool."""
