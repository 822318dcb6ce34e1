"""The open library: its session (scan, pairs, groups), progress panels and folder dialogs."""
