"""The works registry's bulk lookup (works_registry.lookup): what a pipeline gets per item."""

import hashlib
from datetime import date

import pytest
from django.conf import settings
from django.urls import reverse

from consent.models import LicenceGrant, Preference
from tests import factories
from works.fingerprints import to_signed64
from works.models import Work, WorkFile, WorkIdentifier, phash_blocks
from works_registry.lookup import MAX_WORKS_PER_ITEM, lookup

ISBN_13 = "9780306406157"
ISBN_10 = "0-306-40615-2"  # the same book
SHA = hashlib.sha256(b"the picture").hexdigest()
PHASH = 0xF0E1D2C3B4A59687


def _file(work, *, sha256="", phash=None):
    blocks = {}
    if phash is not None:
        blocks = {f"phash_b{i}": b for i, b in enumerate(phash_blocks(phash))}
    return WorkFile.objects.create(
        work=work,
        status=WorkFile.Status.READY,
        original_name="picture.jpg",
        size=1,
        family="image",
        format="jpeg",
        mime="image/jpeg",
        sha256=sha256,
        phash=None if phash is None else to_signed64(phash),
        **blocks,
    )


def _ident(work, scheme, value):
    return WorkIdentifier.objects.create(work=work, scheme=scheme, value=value)


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory()


@pytest.fixture
def other_developer(db):
    return factories.AIDeveloperFactory()


@pytest.fixture
def book(creator):
    work = factories.WorkFactory(owner=creator, title="The Long Shore", kind="book")
    _ident(work, "isbn", ISBN_13)
    _ident(work, "url", "https://example.com/books/long-shore?id=7")
    return work


def _ids(entry):
    return [w["public_id"] for w in entry["works"]]


def test_each_identifier_kind_finds_its_work(creator, developer):
    work = factories.WorkFactory(owner=creator, kind="recording")
    _ident(work, "isbn", ISBN_13)
    _ident(work, "isrc", "GBAYE0601498")
    _ident(work, "iswc", "T0345246801")
    _ident(work, "doi", "10.1000/182")
    _ident(work, "url", "https://example.com/track")
    _file(work, sha256=SHA, phash=PHASH)
    items = [
        {"isbn": ISBN_10},
        {"isrc": "GB-AYE-06-01498"},
        {"iswc": "T-034.524.680-1"},
        {"doi": "https://doi.org/10.1000/182"},
        {"url": "HTTPS://Example.com:443/track?utm_source=x#player"},
        {"sha256": SHA.upper()},
        {"phash": f"{PHASH:016x}"},
    ]

    results = lookup(items, developer=developer)

    assert [r["matched"] for r in results] == [True] * 7
    assert all(_ids(r) == [work.public_id] for r in results)
    assert [r["works"][0]["match"] for r in results] == [
        {"kind": "isbn"},
        {"kind": "isrc"},
        {"kind": "iswc"},
        {"kind": "doi"},
        {"kind": "url"},
        {"kind": "sha256"},
        {"kind": "phash", "distance": 0},
    ]


def test_the_work_object_is_the_one_the_consent_digest_publishes(creator, developer, book):
    (entry,) = lookup([{"isbn": ISBN_13}], developer=developer)
    work = entry["works"][0]
    assert set(work) == {
        "public_id",
        "title",
        "url",
        "kind",
        "status",
        "claim_state",
        "credit_name",
        "identifiers",
        "decision",
        "signals",
        "match",
    }
    assert work["url"] == settings.SITE_URL + reverse("works:public", args=[book.public_id])
    assert work["title"] == "The Long Shore"
    assert work["claim_state"] == "self_declared"
    assert work["credit_name"] == creator.creator_profile.credit_name
    assert sorted(work["identifiers"]) == [
        f"isbn:{ISBN_13}",
        "url:https://example.com/books/long-shore?id=7",
    ]
    assert work["decision"]["train-genai"] == {
        "choice": "deny",
        "source": "built-in",
        "licence_ref": "",
    }
    assert work["decision"]["search"]["choice"] == "allow"
    assert entry["truncated"] is False


def test_order_is_kept_and_unmatched_items_say_so(creator, developer, book):
    other = factories.WorkFactory(owner=creator)
    _ident(other, "doi", "10.1000/999")
    items = [
        {"doi": "10.1000/999"},
        {"isbn": "9781861972712"},  # valid, registered by nobody
        {"isbn": ISBN_13},
        {"doi": "10.1000/999"},
    ]
    results = lookup(items, developer=developer)
    assert [_ids(r) for r in results] == [
        [other.public_id],
        [],
        [book.public_id],
        [other.public_id],
    ]
    assert results[1] == {"matched": False, "works": [], "truncated": False}


@pytest.mark.parametrize(
    "item, code",
    [
        ("9780306406157", "not_an_object"),
        (["isbn", ISBN_13], "not_an_object"),
        (None, "not_an_object"),
        ({}, "no_identifier"),
        ({"ean": ISBN_13}, "no_identifier"),
        ({"isbn": ISBN_13, "doi": "10.1000/182"}, "several_identifiers"),
        ({"isbn": ISBN_13, "note": "x"}, "unknown_key"),
        ({"isbn": "9780306406158"}, "invalid_identifier"),  # check digit
        ({"isbn": 9780306406157}, "invalid_identifier"),  # not a string
        ({"url": "example.com/page"}, "invalid_identifier"),  # no scheme: lookups are exact
        ({"url": "ftp://example.com/x"}, "invalid_identifier"),
        ({"sha256": "abc"}, "invalid_identifier"),
        ({"sha256": "g" * 64}, "invalid_identifier"),
        ({"phash": "f0e1d2c3b4a5968"}, "invalid_identifier"),  # 15 digits
        ({"phash": "0xf0e1d2c3b4a5968"}, "invalid_identifier"),
        ({"phash": "zzzzzzzzzzzzzzzz"}, "invalid_identifier"),
        ({"iswc": "T-034.524.680-2"}, "invalid_identifier"),
    ],
)
def test_a_bad_item_gets_an_error_and_the_others_are_answered(developer, book, item, code):
    results = lookup([{"isbn": ISBN_13}, item, {"isbn": ISBN_10}], developer=developer)
    assert _ids(results[0]) == _ids(results[2]) == [book.public_id]
    assert set(results[1]) == {"error"}
    assert results[1]["error"]["code"] == code
    assert results[1]["error"]["message"]


def test_an_error_message_never_echoes_the_input(developer, db):
    (entry,) = lookup([{"url": "https://user:hunter2@example.com/"}], developer=developer)
    assert "hunter2" not in entry["error"]["message"]


def test_url_variants_match_the_stored_address(developer, book):
    variants = [
        "https://example.com/books/long-shore?id=7",
        "https://EXAMPLE.com/books/long-shore?id=7",
        "https://example.com:443/books/long-shore?id=7",
        "https://example.com/books/long-shore?id=7#chapter-2",
        "https://example.com/books/long-shore?utm_source=news&id=7&utm_campaign=x",
        "https://example.com/books/long-shore?fbclid=abc&id=7&gclid=1&mc_eid=2",
    ]
    results = lookup([{"url": v} for v in variants], developer=developer)
    assert [_ids(r) for r in results] == [[book.public_id]] * len(variants)
    # The path and the other parameters stay significant.
    misses = lookup(
        [
            {"url": "https://example.com/Books/long-shore?id=7"},
            {"url": "https://example.com/books/long-shore?id=8"},
            {"url": "https://example.com:8443/books/long-shore?id=7"},
        ],
        developer=developer,
    )
    assert [r["matched"] for r in misses] == [False, False, False]


def test_a_licence_grant_shows_for_its_developer_only(creator, developer, other_developer, book):
    LicenceGrant.objects.create(
        owner=creator,
        developer=developer,
        all_works=False,
        uses=["train-genai"],
        licence_ref="LIC-2027-7",
        starts_on=date(2020, 1, 1),
    ).works.add(book)

    (mine,) = lookup([{"isbn": ISBN_13}], developer=developer)
    (theirs,) = lookup([{"isbn": ISBN_13}], developer=other_developer)
    (anyone,) = lookup([{"isbn": ISBN_13}], developer=None)

    assert mine["works"][0]["decision"]["train-genai"] == {
        "choice": "allow",
        "source": "grant",
        "licence_ref": "LIC-2027-7",
    }
    for entry in (theirs, anyone):
        assert entry["works"][0]["decision"]["train-genai"] == {
            "choice": "deny",
            "source": "built-in",
            "licence_ref": "",
        }


def test_the_creators_preferences_decide(creator, developer, book):
    Preference.objects.create(owner=creator, work=None, use="train-ai", choice="allow")
    Preference.objects.create(owner=creator, work=book, use="train-genai", choice="licence")
    (entry,) = lookup([{"isbn": ISBN_13}], developer=developer)
    decision = entry["works"][0]["decision"]
    assert decision["train-ai"] == {"choice": "allow", "source": "default", "licence_ref": ""}
    assert decision["train-genai"] == {"choice": "licence", "source": "override", "licence_ref": ""}


def test_archived_and_unverified_works_are_answered_with_their_state(
    creator, other_creator, developer
):
    archived = factories.WorkFactory(owner=creator, status=Work.Status.ARCHIVED)
    rejected = factories.WorkFactory(owner=other_creator)
    Work.objects.filter(pk=rejected.pk).update(
        claim_state=Work.Claim.REJECTED, claim_decided_at="2026-01-01T00:00:00Z"
    )
    for work in (archived, rejected):
        _ident(work, "doi", "10.5555/shared")
    (entry,) = lookup([{"doi": "10.5555/shared"}], developer=developer)
    states = {w["public_id"]: (w["status"], w["claim_state"]) for w in entry["works"]}
    assert states == {
        archived.public_id: ("archived", "self_declared"),
        rejected.public_id: ("active", "rejected"),
    }


def test_perceptual_matches_within_the_distance_nearest_first(creator, developer, settings):
    settings.PHASH_MAX_DISTANCE = 4
    works = factories.WorkFactory.create_batch(4, owner=creator, kind="photograph")
    _file(works[0], phash=PHASH ^ 0b111)  # 3 bits
    _file(works[1], phash=PHASH)  # 0 bits
    _file(works[2], phash=PHASH ^ 0b1111)  # 4 bits: the limit
    _file(works[3], phash=PHASH ^ 0b11111)  # 5 bits: too far
    (entry,) = lookup([{"phash": f"{PHASH:016X}"}], developer=developer)
    assert _ids(entry) == [works[1].public_id, works[0].public_id, works[2].public_id]
    assert [w["match"]["distance"] for w in entry["works"]] == [0, 3, 4]

    settings.PHASH_MAX_DISTANCE = 2
    (entry,) = lookup([{"phash": f"{PHASH:016x}"}], developer=developer)
    assert _ids(entry) == [works[1].public_id]


def test_at_most_20_works_per_item_then_truncated(creator, developer):
    works = factories.WorkFactory.create_batch(MAX_WORKS_PER_ITEM + 3, owner=creator)
    WorkIdentifier.objects.bulk_create(
        WorkIdentifier(work=w, scheme="doi", value="10.5555/anthology") for w in works
    )
    exactly = factories.WorkFactory.create_batch(MAX_WORKS_PER_ITEM, owner=creator)
    WorkIdentifier.objects.bulk_create(
        WorkIdentifier(work=w, scheme="doi", value="10.5555/twenty") for w in exactly
    )
    over, full = lookup([{"doi": "10.5555/anthology"}, {"doi": "10.5555/twenty"}], developer=None)
    assert MAX_WORKS_PER_ITEM == 20
    assert over["truncated"] is True
    assert _ids(over) == [w.public_id for w in sorted(works, key=lambda w: w.pk)][:20]
    assert full["truncated"] is False
    assert len(full["works"]) == 20


def _catalogue(owner, n):
    works = Work.objects.bulk_create(
        Work(owner=owner, title=f"W{i}", kind="photograph") for i in range(n)
    )
    rows = []
    for i, w in enumerate(works):
        rows += [
            WorkIdentifier(work=w, scheme="doi", value=f"10.5555/{i}"),
            WorkIdentifier(work=w, scheme="url", value=f"https://example.com/{i}"),
        ]
    WorkIdentifier.objects.bulk_create(rows)
    WorkFile.objects.bulk_create(
        WorkFile(
            work=w,
            status=WorkFile.Status.READY,
            original_name="p.jpg",
            size=1,
            family="image",
            format="jpeg",
            mime="image/jpeg",
            sha256=hashlib.sha256(str(i).encode()).hexdigest(),
            phash=to_signed64((i * 0x9E3779B97F4A7C15) % 2**64),
            **{
                f"phash_b{b}": v
                for b, v in enumerate(phash_blocks((i * 0x9E3779B97F4A7C15) % 2**64))
            },
        )
        for i, w in enumerate(works)
    )
    return works


def _mixed_items(n):
    kinds = [
        lambda i: {"doi": f"10.5555/{i}"},
        lambda i: {"url": f"https://example.com/{i}?utm_source=x"},
        lambda i: {"sha256": hashlib.sha256(str(i).encode()).hexdigest()},
        lambda i: {"phash": f"{(i * 0x9E3779B97F4A7C15) % 2**64:016x}"},
        lambda i: {"isbn": ISBN_13},
        lambda i: {"isrc": "GBAYE0601498"},
        lambda i: {"iswc": "T0345246801"},
        lambda i: {"bad": i},
    ]
    return [kinds[i % len(kinds)](i % 300) for i in range(n)]


@pytest.mark.parametrize("n", [10, 2000])
def test_queries_do_not_grow_with_the_items(creator, developer, django_assert_max_num_queries, n):
    _catalogue(creator, 300)
    LicenceGrant.objects.create(
        owner=creator,
        developer=developer,
        all_works=True,
        uses=["search"],
        licence_ref="L",
        starts_on=date(2020, 1, 1),
    )
    items = _mixed_items(n)
    # identifiers: one per kind (5) + files by SHA-256 + files by pHash + the works + their
    # identifiers + decisions (3)
    with django_assert_max_num_queries(12):
        results = lookup(items, developer=developer)
    assert len(results) == n
    pairs = list(zip(results, items, strict=True))
    assert all(r["matched"] for r, item in pairs if set(item) <= {"doi", "url"})
    assert all("error" in r for r, item in pairs if "bad" in item)
