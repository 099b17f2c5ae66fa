"""Conflicts between two creators' claims to what looks like the same work.

Detection (``conflicts_detect``) finds, for a batch of works, every *other creator's* work that
shares an identifier (ISBN, ISRC, ISWC, DOI, URL), the file's SHA-256, or — for images — a
perceptual hash within ``PHASH_MAX_DISTANCE`` bits, and records one ``Conflict`` per pair
(``work_a`` the earlier registration). Its query count does not grow with the batch.

The perceptual-hash search uses the block index of ``works.models``: a 64-bit hash is split into
5 blocks, each an indexed column. Two hashes within 4 bits of each other differ in at most 4
blocks, so they agree on at least one whole block (pigeonhole): the rows sharing a block with
the query are a superset of the matches, and only they have their distance computed.

Modules: ``index`` (the perceptual-hash index), ``detection``, ``decisions`` (routing, the
staff queue, resolution, the block on later actions, the creator's view). See docs/conflicts.md.
"""

from ..access import conflict_route
from .decisions import (
    ConflictNote,
    blocked_work_ids,
    conflict_blocked_work,
    conflict_lift_block,
    conflict_notes,
    conflict_queue,
    conflict_resolve,
    work_blocking_conflicts,
    work_is_blocked,
)
from .detection import KIND_PHRASES, conflicts_detect, match_phrase
from .index import PHASH_INDEX_MAX_DISTANCE, phash_candidates, phash_matches

__all__ = [
    "KIND_PHRASES",
    "PHASH_INDEX_MAX_DISTANCE",
    "ConflictNote",
    "blocked_work_ids",
    "conflict_blocked_work",
    "conflict_lift_block",
    "conflict_notes",
    "conflict_queue",
    "conflict_resolve",
    "conflict_route",
    "conflicts_detect",
    "match_phrase",
    "phash_candidates",
    "phash_matches",
    "work_blocking_conflicts",
    "work_is_blocked",
]
