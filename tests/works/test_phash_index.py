"""The perceptual-hash block index finds exactly what a brute-force scan finds.

Property tests (Hypothesis): for random 64-bit hashes, stored rows made by flipping 0 to 8 of
its bits (so some are just inside distance 4 and some just outside, yet share blocks) and
random far hashes, ``phash_matches`` equals a scan of every stored row. Each example stores its
rows inside a savepoint that is rolled back, so examples never see each other's rows.
"""

import random

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from hypothesis import HealthCheck, event, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests import factories
from tests.works.conflicting import store_hashes
from works.conflicts import phash_candidates, phash_matches
from works.fingerprints import hamming, to_unsigned64
from works.models import PHASH_BLOCK_BITS, WorkFile, phash_blocks

HASHES = st.integers(min_value=0, max_value=2**64 - 1)
BIT_SETS = st.sets(st.integers(min_value=0, max_value=63), max_size=8)


def flip(value: int, bits) -> int:
    for bit in bits:
        value ^= 1 << bit
    return value


def test_the_blocks_cover_all_64_bits_once():
    assert sum(PHASH_BLOCK_BITS) == 64 and len(PHASH_BLOCK_BITS) >= 5
    assert phash_blocks(2**64 - 1) == tuple((1 << bits) - 1 for bits in PHASH_BLOCK_BITS)
    assert phash_blocks(1 << 63)[0] == 1 << (PHASH_BLOCK_BITS[0] - 1)
    assert phash_blocks(1)[-1] == 1


@given(HASHES, st.sets(st.integers(min_value=0, max_value=63), max_size=4))
@hypothesis_settings(max_examples=500, deadline=None)
def test_hashes_within_4_bits_share_a_whole_block(value, bits):
    """The pigeonhole argument the index rests on, checked directly."""
    near = flip(value, bits)
    assert any(a == b for a, b in zip(phash_blocks(value), phash_blocks(near), strict=True))


def _brute_force(query: int, limit: int, exclude_owner_id=None) -> dict[int, int]:
    found = {}
    for pk, owner_id, stored in WorkFile.objects.filter(phash__isnull=False).values_list(
        "pk", "work__owner_id", "phash"
    ):
        distance = hamming(to_unsigned64(stored), query)
        if distance <= limit and owner_id != exclude_owner_id:
            found[pk] = distance
    return found


@pytest.fixture
def owners(db):
    return factories.UserFactory(), factories.UserFactory()


@given(
    query=HASHES,
    near=st.lists(BIT_SETS, max_size=120),
    far=st.lists(HASHES, max_size=80),
    limit=st.integers(min_value=0, max_value=4),
    seed=st.integers(min_value=0, max_value=2**32),
)
@hypothesis_settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_phash_matches_equal_a_brute_force_scan(owners, query, near, far, limit, seed):
    hashes = [flip(query, bits) for bits in near] + far
    rng = random.Random(seed)
    mine = [h for h in hashes if rng.random() < 0.3]
    theirs = [h for h in hashes if h not in mine]
    with transaction.atomic():
        store_hashes(owners[0], mine)
        store_hashes(owners[1], theirs)
        found = {f.pk: d for f, d in phash_matches(query, max_distance=limit)}
        assert found == _brute_force(query, limit)
        event(f"{'some' if found else 'no'} matches")
        excluded = phash_matches(query, max_distance=limit, exclude_owner_id=owners[0].pk)
        assert {f.pk: d for f, d in excluded} == _brute_force(query, limit, owners[0].pk)
        # Nearest first, each file with its work.
        distances = [d for _, d in excluded]
        assert distances == sorted(distances)
        assert all(f.work.owner_id == owners[1].pk for f, _ in excluded)
        transaction.set_rollback(True)


def test_candidates_use_the_blocks_and_skip_files_without_a_hash(owners):
    query = 0x0123456789ABCDEF
    [same_first_block, unrelated] = store_hashes(
        owners[0], [query ^ ((1 << 51) - 1), query ^ (2**64 - 1)]
    )
    WorkFile.objects.create(
        work=factories.WorkFactory(owner=owners[0]),
        original_name="doc.pdf",
        size=1,
        family="text",
        format="pdf",
        mime="application/pdf",
    )

    candidates = set(phash_candidates(query))

    assert candidates == {same_first_block}  # shares block 0, far beyond distance 4 though
    assert phash_matches(query) == []
    assert set(phash_candidates(query, exclude_owner_id=owners[0].pk)) == set()


def test_the_candidate_query_is_an_or_of_the_five_block_equalities(owners):
    sql = str(phash_candidates(0xFFFF).query)
    for i in range(len(PHASH_BLOCK_BITS)):
        assert f'"phash_b{i}" = ' in sql
    assert sql.count(" OR ") == len(PHASH_BLOCK_BITS) - 1


def test_distances_beyond_the_index_are_refused(settings, owners):
    with pytest.raises(ValueError, match="max_distance"):
        phash_matches(1, max_distance=5)
    with pytest.raises(ValueError):
        phash_matches(2**64)
    settings.PHASH_MAX_DISTANCE = 7
    with pytest.raises(ImproperlyConfigured, match="5 blocks"):
        phash_matches(1)
