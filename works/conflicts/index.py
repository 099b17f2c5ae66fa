"""The perceptual-hash index: near-identical images found through 5 indexed blocks.

A 64-bit hash is also stored as 5 disjoint blocks (``PHASH_BLOCK_BITS``: 13, 13, 13, 13, 12
bits), each an indexed column. Two hashes within 4 bits of each other differ in at most 4
blocks, so they agree on at least one whole block (pigeonhole). The rows sharing a block with
the query are therefore a superset of the matches; only they have their distance computed.
"""

from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q, QuerySet

from ..fingerprints import hamming, to_unsigned64
from ..models import PHASH_BLOCK_BITS, WorkFile, phash_blocks

# The largest distance the block index finds every match for: with n disjoint blocks, hashes
# within n - 1 bits share a whole block. Beyond it the index would silently miss matches.
PHASH_INDEX_MAX_DISTANCE = len(PHASH_BLOCK_BITS) - 1
BLOCK_FIELDS = [f"phash_b{i}" for i in range(len(PHASH_BLOCK_BITS))]


def max_distance_checked(max_distance: int | None) -> int:
    if max_distance is None:
        value = settings.PHASH_MAX_DISTANCE
        if not (isinstance(value, int) and 0 <= value <= PHASH_INDEX_MAX_DISTANCE):
            raise ImproperlyConfigured(
                f"PHASH_MAX_DISTANCE is {value!r}: it must be a whole number from 0 to "
                f"{PHASH_INDEX_MAX_DISTANCE}. The perceptual-hash index splits each hash into "
                f"{len(PHASH_BLOCK_BITS)} blocks, which finds every match only up to "
                f"{PHASH_INDEX_MAX_DISTANCE} differing bits."
            )
        return value
    if not 0 <= max_distance <= PHASH_INDEX_MAX_DISTANCE:
        raise ValueError(
            f"max_distance must be from 0 to {PHASH_INDEX_MAX_DISTANCE} (the block index is "
            f"exact only that far), not {max_distance}"
        )
    return max_distance


def _check_hash(phash_unsigned: int) -> int:
    if not 0 <= phash_unsigned < 1 << 64:
        raise ValueError(f"{phash_unsigned} is not an unsigned 64-bit hash")
    return phash_unsigned


def phash_candidates(phash_unsigned: int, *, exclude_owner_id=None) -> QuerySet[WorkFile]:
    """Files whose stored hash shares at least one whole block with ``phash_unsigned``: a
    superset of every file within 4 bits of it, found through the 5 block indexes."""
    blocks = phash_blocks(_check_hash(phash_unsigned))
    condition = Q()
    for name, value in zip(BLOCK_FIELDS, blocks, strict=True):
        condition |= Q(**{name: value})
    files = WorkFile.objects.filter(condition, phash__isnull=False)
    if exclude_owner_id is not None:
        files = files.exclude(work__owner_id=exclude_owner_id)
    return files


def phash_matches(
    phash_unsigned: int, *, max_distance: int | None = None, exclude_owner_id=None
) -> list[tuple[WorkFile, int]]:
    """Every file within ``max_distance`` bits (default ``PHASH_MAX_DISTANCE``) of
    ``phash_unsigned``, nearest first, as ``(file, distance)`` with the file's work loaded.

    Two queries: the candidates' ids and hashes (index lookups, no join), then the few that
    are close enough. Raises ``ImproperlyConfigured`` if the setting is beyond what the index
    finds exactly."""
    limit = max_distance_checked(max_distance)
    near = {}
    for pk, stored in phash_candidates(phash_unsigned).values_list("pk", "phash"):
        distance = hamming(to_unsigned64(stored), phash_unsigned)
        if distance <= limit:
            near[pk] = distance
    if not near:
        return []
    files = WorkFile.objects.select_related("work").filter(pk__in=near)
    if exclude_owner_id is not None:
        files = files.exclude(work__owner_id=exclude_owner_id)
    return sorted(((f, near[f.pk]) for f in files), key=lambda pair: (pair[1], pair[0].pk))


def phash_near(hashes: dict[int, int], limit: int):
    """For several hashes at once (``{key: unsigned hash}``), in one query: yields
    ``(key, other_work_id, other_hash, distance)`` for every stored file within ``limit``."""
    by_block: list[dict[int, list[int]]] = [defaultdict(list) for _ in BLOCK_FIELDS]
    for key, value in hashes.items():
        for position, block in enumerate(phash_blocks(value)):
            by_block[position][block].append(key)
    condition = Q()
    for name, keys in zip(BLOCK_FIELDS, by_block, strict=True):
        condition |= Q(**{f"{name}__in": sorted(keys)})
    rows = WorkFile.objects.filter(condition, phash__isnull=False).values_list("work_id", "phash")
    for work_id, stored in rows:
        other = to_unsigned64(stored)
        keys = set()
        for position, block in enumerate(phash_blocks(other)):
            keys.update(by_block[position].get(block, ()))
        for key in keys:
            distance = hamming(other, hashes[key])
            if distance <= limit:
                yield key, work_id, other, distance
