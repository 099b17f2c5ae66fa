"""A work's public page, with all its signals, costs the same number of queries whatever the
number of works, overrides and licence grants behind it."""

from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consent.models import LicenceGrant, Preference
from tests import factories

USES = ["train-genai", "train-ai", "ai-input", "search", "style"]


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def _crowd(owner, *, works: int, grants: int) -> list:
    """``works`` works for ``owner``, each overriding every use, and ``grants`` licence grants
    (half for all their works, half for a few), to as many developers."""
    many = factories.WorkFactory.create_batch(works, owner=owner)
    Preference.objects.bulk_create(
        Preference(owner=owner, work=w, use=use, choice="licence") for w in many for use in USES
    )
    for use in USES:
        Preference.objects.create(owner=owner, work=None, use=use, choice="deny")
    for i in range(grants):
        grant = LicenceGrant.objects.create(
            owner=owner,
            developer=factories.AIDeveloperFactory(),
            all_works=i % 2 == 0,
            uses=["train-genai", "ai-input"],
            licence_ref=f"LIC-{i}",
            starts_on=date.today() - timedelta(days=1),
        )
        if i % 2:
            grant.works.set(many[i : i + 5])
    return many


def test_public_page_queries_do_not_grow_with_works_overrides_and_grants(
    client, creator, other_creator, django_assert_max_num_queries
):
    lone = factories.WorkFactory(owner=other_creator)
    paths = [
        reverse("works:public", args=[lone.public_id]),
        reverse("consent:tdm-policy", args=[lone.public_id]),
        reverse("consent:licence", args=[lone.public_id]),
    ]
    baseline = [_queries(client, path) for path in paths]

    many = _crowd(creator, works=200, grants=20)
    _crowd(other_creator, works=50, grants=4)
    busy = many[100]
    for path, limit in zip(
        [
            reverse("works:public", args=[busy.public_id]),
            reverse("consent:tdm-policy", args=[busy.public_id]),
            reverse("consent:licence", args=[busy.public_id]),
        ],
        baseline,
        strict=True,
    ):
        with django_assert_max_num_queries(limit):
            response = client.get(path)
        assert response.status_code == 200


def test_the_public_page_reads_the_decisions_once(client, creator, django_assert_num_queries):
    """Work (with owner and profile), identifiers, and their defaults with the work's overrides
    (one query): the headers, the <meta> tags and the page's words all come from that one
    computation."""
    work = factories.WorkFactory(owner=creator)
    url = reverse("works:public", args=[work.public_id])
    with django_assert_num_queries(4):  # the cache's version, then the three above
        response = client.get(url)
    assert "Content-Usage" in response.headers
    with django_assert_num_queries(1):  # unchanged: the cached page, after its version
        again = client.get(url)
    assert again.content == response.content
    assert {k: v for k, v in again.headers.items()} == {k: v for k, v in response.headers.items()}
