"""The registry API benchmark's yardsticks (bench/_urls_registry_api.py, mounted only by
bench/_settings_registry_api.py): the bare view runs the lookup's own item parsing and
identifier queries, so it finds what the real lookup finds for the same items; the trivial view
touches no database; and the project's own URLs know neither."""

import json

import pytest
from django.test import Client
from django.urls import NoReverseMatch, Resolver404, resolve

from tests import factories
from works_registry.lookup import lookup

ISBN = "9780306406157"


@pytest.fixture
def bench_urls(settings):
    settings.ROOT_URLCONF = "bench._urls_registry_api"


def test_the_bare_view_matches_what_the_lookup_matches(db, bench_urls):
    work = factories.WorkFactory()
    factories.WorkIdentifierFactory(work=work, scheme="isbn", value=ISBN)
    factories.WorkIdentifierFactory(work=work, scheme="url", value="https://example.org/a")
    items = [
        {"isbn": "978-0-306-40615-7"},
        {"url": "https://EXAMPLE.org/a?utm_source=x"},
        {"doi": "10.5555/nothing"},
        {"isbn": "not an isbn"},
        "not an object",
    ]

    response = Client().post(
        "/bench/bare-lookup", json.dumps({"items": items}), content_type="application/json"
    )

    assert response.status_code == 200
    matched = sum(bool(r.get("matched")) for r in lookup(items))
    assert response.json() == {"items": 5, "matched": matched, "errors": 2}
    assert matched == 2


def test_the_trivial_view_needs_no_database(bench_urls, django_assert_num_queries, db):
    with django_assert_num_queries(0):
        response = Client().get("/bench/trivial.json")

    assert response.json() == {"ok": True}


def test_the_projects_urls_know_neither_yardstick():
    for path in ("/bench/bare-lookup", "/bench/trivial.json"):
        with pytest.raises((Resolver404, NoReverseMatch)):
            resolve(path)
