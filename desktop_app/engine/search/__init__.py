"""Exact Hamming search: all pairs and its cost model, incremental pairing, grouping.

Every search here returns exactly what brute force would (the pigeonhole bound in
``catalog/mih.py``, whose segment index answers the one-photo query); candidate filters
only ever save work, never lose a pair.
"""
