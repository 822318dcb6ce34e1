"""Groups of copies from the pairs within a threshold, without chaining.

Policy. Every group has a *reference* image and every other member is within the
threshold of that reference (not merely of some other member), so if A is near B and B
near C while A and C are far apart, A and C never sit in one group as if they were
copies. Each image is in at most one group, and a group has at least two images.

Algorithm: greedy star clustering in a fixed priority order. Images are ranked by their
number of neighbours within the threshold (more first), then by ``rank`` (the caller's
preference, e.g. path order; by default the id), then by id. Going down that order, an
image becomes a reference unless a higher-priority neighbour already is one; every other
image joins its highest-priority neighbouring reference. The references are the
lexicographically first maximal independent set of the neighbour graph, so every image
with a neighbour ends up either a reference or next to one. We compute that set in
vectorised rounds rather than a per-image loop: in each round, the undecided images with
no undecided higher-priority neighbour become references and their undecided neighbours
become members; edges to decided images are dropped, so rounds shrink quickly (their
number is the longest chain of priorities, a handful on real libraries).

A reference whose every neighbour joined a higher-priority reference is left alone (a
group of one is not a group).

Order. Members: the reference first, then by distance to it, then by rank. Groups: the
largest first, then by the reference's rank. Distances and transforms are those of the
reference-to-member pair (the transform turns the reference into the member).

Changing the threshold regroups from the same pairs (``PairSet`` complete up to a larger
threshold): nothing is re-read or re-hashed.
"""

from __future__ import annotations

import logging

import numpy as np
import numpy.typing as npt

from desktop_app.engine.types import INVERSE_TRANSFORM, Grouping, IdArray, PairSet

__all__ = ["group_pairs"]

log = logging.getLogger(__name__)

_UNDECIDED, _REFERENCE, _MEMBER = 0, 1, 2


def _compact(
    a: IdArray, b: IdArray
) -> tuple[IdArray, npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The distinct ids of ``a`` and ``b``, sorted, and each end's index among them.

    Catalog ids are dense row ids, so a presence table over their range is the fast
    path (a few passes); sparse ids fall back to sorting.
    """
    low = int(min(a.min(), b.min()))
    span = int(max(a.max(), b.max())) - low + 1
    if span <= max(1 << 22, 8 * a.shape[0]):
        present = np.zeros(span, dtype=np.bool_)
        present[a - low] = True
        present[b - low] = True
        index = np.cumsum(present, dtype=np.int64) - 1
        nodes = np.flatnonzero(present) + low
        return nodes, index[a - low], index[b - low]
    nodes = np.unique(np.concatenate((a, b)))
    return nodes, np.searchsorted(nodes, a), np.searchsorted(nodes, b)


def _ranks(nodes: IdArray, rank: IdArray | None) -> npt.NDArray[np.int64]:
    """Position of each node in ``rank``; unlisted nodes after all listed ones, by id."""
    if rank is None:
        return np.arange(nodes.shape[0], dtype=np.int64)  # nodes are sorted by id
    rank = np.asarray(rank, dtype=np.int64)
    order = np.argsort(rank, kind="stable")
    where = np.searchsorted(rank[order], nodes)
    where = np.minimum(where, max(rank.shape[0] - 1, 0))
    found = rank[order][where] == nodes if rank.shape[0] else np.zeros(nodes.shape, bool)
    out = np.empty(nodes.shape[0], dtype=np.int64)
    out[found] = order[where[found]]
    out[~found] = rank.shape[0] + np.arange(int((~found).sum()))
    return out


def _references(
    k: int, src: npt.NDArray[np.int32], dst: npt.NDArray[np.int32]
) -> npt.NDArray[np.bool_]:
    """The lexicographically first maximal independent set, in rounds.

    Nodes are numbered by priority (0 first); each edge runs from the higher-priority end
    ``src`` to the lower one ``dst``.
    """
    state = np.zeros(k, dtype=np.int8)
    rounds = 0
    while True:
        rounds += 1
        blocked = np.zeros(k, dtype=np.bool_)
        blocked[dst] = True
        new = (state == _UNDECIDED) & ~blocked
        state[new] = _REFERENCE
        state[dst[new[src]]] = _MEMBER
        live = (state[src] == _UNDECIDED) & (state[dst] == _UNDECIDED)
        src, dst = src[live], dst[live]
        if not (state == _UNDECIDED).any():
            break
    log.debug("grouping: %d nodes decided in %d rounds", k, rounds)
    refs: npt.NDArray[np.bool_] = state == _REFERENCE
    return refs


def group_pairs(pairs: PairSet, threshold: int, *, rank: IdArray | None = None) -> Grouping:
    """Groups of copies among the pairs within ``threshold``; see the module docstring.

    Args:
        pairs: Pairs complete up to at least ``threshold``.
        threshold: Largest distance between a reference and a member.
        rank: Image ids in order of preference (e.g. sorted by path); an image's rank is
            its position here, and breaks ties between images with as many neighbours.
            Ids missing from it come after, by id. Default: by id.

    Returns:
        The grouping, largest group first.

    Raises:
        ValueError: ``threshold`` is negative or beyond what ``pairs`` is complete for.
    """
    if threshold < 0:
        raise ValueError("threshold must be 0 or more")
    if threshold > pairs.threshold:
        raise ValueError(f"pairs are complete only up to {pairs.threshold}")
    if threshold >= pairs.threshold:
        a, b, dist, trans = pairs.a, pairs.b, pairs.distance, pairs.transform
    else:
        keep = pairs.distance <= threshold
        a, b = pairs.a[keep], pairs.b[keep]
        dist, trans = pairs.distance[keep], pairs.transform[keep]
    if a.shape[0] == 0:
        empty = np.empty(0, np.int64)
        return Grouping(
            np.zeros(1, np.int64), empty, empty.astype(np.uint8), empty.astype(np.uint8), threshold
        )
    nodes, ia, ib = _compact(a, b)
    k = int(nodes.shape[0])
    degree = np.bincount(ia, minlength=k) + np.bincount(ib, minlength=k)
    node_rank = _ranks(nodes, rank)
    # Priority: more neighbours, then rank, then id (nodes are sorted by id).
    by_priority = np.lexsort((np.arange(k), node_rank, -degree))
    # int32 halves the memory traffic of the edge passes below (k < 2**31 images).
    prio = np.empty(k, dtype=np.int32)
    prio[by_priority] = np.arange(k, dtype=np.int32)
    pa, pb = prio[ia], prio[ib]
    is_ref = _references(k, np.minimum(pa, pb), np.maximum(pa, pb))

    # Each member joins its highest-priority neighbouring reference.
    a_ref, b_ref = is_ref[pa], is_ref[pb]
    fwd = a_ref & ~b_ref
    rev = b_ref & ~a_ref
    ref = np.concatenate((pa[fwd], pb[rev]))
    member = np.concatenate((pb[fwd], pa[rev]))
    m_dist = np.concatenate((dist[fwd], dist[rev]))
    m_trans = np.concatenate((trans[fwd], INVERSE_TRANSFORM[trans[rev]]))
    best = np.full(k, k, dtype=np.int32)
    np.minimum.at(best, member, ref)
    pick = ref == best[member]  # one edge per member: pairs are unique
    ref, member, m_dist, m_trans = ref[pick], member[pick], m_dist[pick], m_trans[pick]

    # Groups: references with at least one member, largest first, then by rank.
    size = np.bincount(ref, minlength=k)
    refs = np.flatnonzero(size)  # in priority numbering
    prio_rank = node_rank[by_priority]
    group_order = refs[np.lexsort((refs, prio_rank[refs], -size[refs]))]
    group_of = np.full(k, -1, dtype=np.int64)
    group_of[group_order] = np.arange(group_order.shape[0])

    all_members = np.concatenate((group_order, member))
    all_group = group_of[all_members[: group_order.shape[0]]]
    all_group = np.concatenate((all_group, group_of[ref]))
    all_dist = np.concatenate((np.zeros(group_order.shape[0], np.uint8), m_dist))
    all_trans = np.concatenate((np.zeros(group_order.shape[0], np.uint8), m_trans))
    not_ref = np.concatenate(
        (np.zeros(group_order.shape[0], np.bool_), np.ones(member.shape[0], np.bool_))
    )
    layout = np.lexsort((all_members, prio_rank[all_members], all_dist, not_ref, all_group))
    offsets = np.zeros(group_order.shape[0] + 1, dtype=np.int64)
    np.cumsum(size[group_order] + 1, out=offsets[1:])
    ids_by_priority = nodes[by_priority]
    return Grouping(
        offsets=offsets,
        members=ids_by_priority[all_members[layout]],
        distance=all_dist[layout],
        transform=all_trans[layout],
        threshold=threshold,
    )
