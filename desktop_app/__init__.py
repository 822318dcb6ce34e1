"""Doppel: find duplicate and near-duplicate photos in a photographer's library."""

__version__ = "0.1.0"
