"""Cleaning up: keep rules, Select Duplicates, Apply with its dry run, undo and history."""
