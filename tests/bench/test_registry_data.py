"""The registry benchmark's data generator (bench/_registry_data.py) builds what it says, on
PostgreSQL: identifiers valid and stored in their normalised form, files with the SHA-256 and
pHash its sample expects, consent and licences for the bench developer; the sample's hits are
found by the real bulk lookup and its misses are not. (PostgreSQL only: skipped on SQLite.)"""

import pytest
from django.db import connection

from bench import _registry_data as data
from notices.models import AIDeveloper
from works.identifiers import normalise
from works.models import Work, WorkFile, WorkIdentifier
from works_registry.lookup import lookup

N = 1200  # 4 creators

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the generator runs SQL only PostgreSQL has"
)


@pytest.fixture
def built(db):
    with connection.cursor() as cursor:
        return data.build(cursor, N)


def test_it_builds_n_works_of_a_few_creators_with_every_kind_of_identifier(built):
    assert Work.objects.filter(public_id__startswith="Bench").count() == N
    assert built.owners == data.owners_for(N) == 4
    counts = {
        scheme: WorkIdentifier.objects.filter(scheme=scheme).count()
        for scheme in ("url", "isbn", "isrc", "iswc", "doi")
    }
    assert counts == {"url": N, "isbn": N // 4, "isrc": N // 4, "iswc": N // 4, "doi": N // 4}
    assert WorkFile.objects.filter(status="ready").exclude(sha256="").count() == N // 2


def test_stored_identifiers_are_valid_and_already_normalised(built):
    for scheme, value in WorkIdentifier.objects.values_list("scheme", "value"):
        assert normalise(scheme, value) == value


def test_the_python_mirror_gives_the_stored_values(built):
    for g in (1, 2, 3, 4, 97, 150, 777, N):
        work = Work.objects.get(public_id=data.public_id(g))
        values = set(work.identifiers.values_list("scheme", "value"))
        scheme = data.SCHEME_OF[g % 4]
        assert values == {("url", data.url(g, 4)), (scheme, getattr(data, scheme)(g))}
        if data.has_file(g):
            assert work.file.sha256 == data.sha256(g)
            assert work.file.phash & (2**64 - 1) == data.phash(g)


def test_sample_hits_are_found_by_the_bulk_lookup_and_misses_are_not(built):
    sample = data.sample(N, 600, seed=7)
    developer = AIDeveloper.objects.get(slug=data.DEVELOPER_SLUG)

    results = lookup(sample.items, developer=developer)

    kinds = {next(iter(item)) for item in sample.items}
    assert kinds == {"url", "sha256", "phash", "isbn", "isrc", "iswc", "doi"}
    assert 0.4 < sum(sample.hits) / len(sample.hits) < 0.8
    for item, hit, g, result in zip(sample.items, sample.hits, sample.works, results, strict=True):
        assert result["matched"] is hit, item
        if hit:
            assert [w["public_id"] for w in result["works"]] == [data.public_id(g)], item


def test_the_bench_developer_holds_licences_the_other_does_not(built):
    # Creator 1 (o mod 8 = 1): training only under licence, and all their works granted to the
    # bench developer for train-genai.
    item = [{"isbn": data.isbn(4)}]
    bench = AIDeveloper.objects.get(slug=data.DEVELOPER_SLUG)
    other = AIDeveloper.objects.get(slug=data.OTHER_DEVELOPER_SLUG)

    mine = lookup(item, developer=bench)[0]["works"][0]["decision"]["train-genai"]
    theirs = lookup(item, developer=other)[0]["works"][0]["decision"]["train-genai"]

    assert mine == {"choice": "allow", "source": "grant", "licence_ref": "BENCH-LIC-1"}
    assert (theirs["choice"], theirs["source"]) == ("licence", "default")
