"""Exact Hamming search: multi-index arithmetic, the one-photo query, all pairs and grouping.

Every search here returns exactly what brute force would (the pigeonhole bound in
:mod:`.mih`); candidate filters only ever save work, never lose a pair.
"""
