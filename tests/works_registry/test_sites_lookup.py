"""Sites in the registry's answers: a URL item matches a creator's verified site when the host is
the same (www. and http/https aside) and the path equals the site's or continues it after a
"/"; the longest site path wins; a registered work's own address still answers the work. Over
HTTP: POST /api/v1/lookup and the Spawning endpoint."""

from datetime import date
from http import HTTPStatus

import pytest
from django.conf import settings
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent.models import LicenceGrant, Preference
from tests import factories
from works.models import WorkIdentifier
from works_registry import sites_services
from works_registry.lookup import lookup
from works_registry.models import Site


def verified_site(owner, address: str) -> Site:
    site = sites_services.site_declare(actor=owner, address=address)
    with transaction.atomic():
        return sites_services.site_verify(site=site, method="file", now=timezone.now())


def _sites(result) -> list[str]:
    return [entry["site"]["public_id"] for entry in result.get("sites", ())]


def _answer(url: str, developer=None) -> dict:
    [result] = lookup([{"url": url}], developer=developer)
    return result


@pytest.fixture
def art(creator):
    return verified_site(creator, "https://ada.example/art/")


@pytest.mark.parametrize(
    ("url", "covered"),
    [
        ("https://ada.example/art", True),
        ("https://ada.example/art/", True),
        ("https://ada.example/art/x/y.html?page=2#top", True),
        ("https://ada.example/artificial", False),
        ("https://ada.example/art-old/x", False),
        ("https://ada.example/", False),
        ("https://ada.example/Art/x", False),  # paths keep their case
        ("https://other.example/art/x", False),
    ],
)
def test_a_site_path_covers_itself_and_what_continues_it_after_a_slash(art, url, covered):
    result = _answer(url)
    assert _sites(result) == ([art.public_id] if covered else [])
    assert result["matched"] is covered


@pytest.mark.parametrize(
    "url",
    [
        "http://ada.example/page",
        "https://ada.example/page",
        "https://WWW.ada.example/page",
        "http://www.ada.example:80/page",
        "https://ada.example:443/",
    ],
)
def test_www_and_the_bare_host_and_http_and_https_are_one_site(creator, url):
    site = verified_site(creator, "https://www.ada.example/")
    assert (site.host, site.path) == ("ada.example", "")
    assert _sites(_answer(url)) == [site.public_id]


def test_other_hosts_and_ports_are_other_sites(creator):
    verified_site(creator, "ada.example")
    for url in (
        "https://blog.ada.example/",
        "https://ada.example:8443/",
        "https://ada.example.org/",
        "https://xada.example/",
    ):
        assert _sites(_answer(url)) == [], url


def test_the_longest_site_path_wins(creator, other_creator):
    platform = verified_site(other_creator, "https://host.example/")
    ada = verified_site(creator, "https://host.example/ada")
    assert _sites(_answer("https://host.example/ada/poems/1")) == [ada.public_id]
    assert _sites(_answer("https://host.example/ada")) == [ada.public_id]
    assert _sites(_answer("https://host.example/adam/x")) == [platform.public_id]
    assert _sites(_answer("https://host.example/")) == [platform.public_id]


def test_only_verified_sites_answer(creator, other_creator):
    pending = sites_services.site_declare(actor=creator, address="https://ada.example/")
    suspended = verified_site(other_creator, "https://bob.example/")
    Site.objects.filter(pk=suspended.pk).update(status=Site.Status.SUSPENDED)
    assert pending.status == "pending"
    assert _answer("https://ada.example/x") == {"matched": False, "works": [], "truncated": False}
    assert _sites(_answer("https://bob.example/x")) == []


def test_a_works_own_address_under_a_site_answers_the_work(creator, art):
    work = factories.WorkFactory(owner=creator, title="Low Tide")
    WorkIdentifier.objects.create(work=work, scheme="url", value="https://ada.example/art/low-tide")
    Preference.objects.create(owner=creator, work=work, use="train-ai", choice="allow")
    Preference.objects.create(owner=creator, work=work, use="train-genai", choice="allow")
    result = _answer("https://ada.example/art/low-tide")
    assert [w["public_id"] for w in result["works"]] == [work.public_id]
    assert "sites" not in result  # the work answers, with its own decision
    assert result["works"][0]["decision"]["train-genai"]["choice"] == "allow"
    assert _sites(_answer("https://ada.example/art/high-tide")) == [art.public_id]


def test_a_sites_decision_is_their_defaults_plus_your_all_works_licences(
    creator, art, developer_key, other_developer_key
):
    developer, other = developer_key[0].developer, other_developer_key[0].developer
    Preference.objects.create(owner=creator, work=None, use="search", choice="deny")
    grant = dict(owner=creator, uses=["train-genai"], starts_on=date(2020, 1, 1))
    LicenceGrant.objects.create(developer=developer, all_works=True, licence_ref="ALL-1", **grant)
    chosen = LicenceGrant.objects.create(
        developer=other, all_works=False, licence_ref="SOME-2", **grant
    )
    chosen.works.add(factories.WorkFactory(owner=creator))

    mine = _answer("https://ada.example/art/x", developer=developer)["sites"][0]
    assert mine["match"] == {"kind": "site"}
    decision = mine["site"]["decision"]
    assert decision["train-genai"] == {"choice": "allow", "source": "grant", "licence_ref": "ALL-1"}
    assert decision["train-ai"] == {"choice": "deny", "source": "built-in", "licence_ref": ""}
    assert decision["search"] == {"choice": "deny", "source": "default", "licence_ref": ""}
    theirs = _answer("https://ada.example/art/x", developer=other)["sites"][0]["site"]["decision"]
    assert theirs["train-genai"]["choice"] == "deny"  # a grant naming works names no site
    public = _answer("https://ada.example/art/x")["sites"][0]["site"]["decision"]
    assert public["train-genai"]["choice"] == "deny"


def test_queries_do_not_grow_with_the_addresses(creator, other_creator, developer_key):
    developer = developer_key[0].developer
    for n in range(6):
        verified_site(creator if n % 2 else other_creator, f"https://site{n}.example/")

    def count(urls) -> int:
        with CaptureQueriesContext(connection) as queries:
            results = lookup([{"url": u} for u in urls], developer=developer)
        assert all(r["matched"] for r in results)
        return len(queries)

    few = count(["https://site0.example/a", "https://site1.example/b"])
    many = count([f"https://site{n % 6}.example/p/{n}" for n in range(300)])
    assert many == few


# --- Over HTTP ----------------------------------------------------------------------------------


def test_the_lookup_answers_a_site_match_beside_unchanged_answers(api, creator, art):
    items = [
        {"url": "https://ada.example/art/sketch.png"},
        {"url": "https://ada.example/artificial"},
        {"isbn": "9780306406157"},
    ]
    response = api.post(reverse("api-v1:lookup"), {"items": items}, content_type="application/json")
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    covered, outside, isbn = response.json()["results"]
    assert covered["matched"] is True and covered["works"] == []
    [entry] = covered["sites"]
    assert entry["match"] == {"kind": "site"}
    site = entry["site"]
    assert site["public_id"] == art.public_id
    assert site["url"] == settings.SITE_URL + reverse("sites:public", args=[art.public_id])
    assert site["site_url"] == "https://ada.example/art"
    assert (site["host"], site["path"], site["status"]) == ("ada.example", "/art", "verified")
    assert site["credit_name"] == "Alice Author" and site["method"] == "file"
    assert site["verified_at"] and "token" not in site
    assert site["signals"]["content_usage"] == "train-ai=n, ai-use=n, search=y"  # their defaults
    assert outside == isbn == {"matched": False, "works": [], "truncated": False}


def test_the_openapi_document_describes_site_matches(api):
    document = api.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "sites" in schemas["ResultOut"]["properties"]
    assert {"site", "match"} <= set(schemas["SiteMatchOut"]["properties"])
    assert {"public_id", "site_url", "decision"} <= set(schemas["SiteOut"]["properties"])


def test_spawning_answers_from_sites_too(developer_key, api_limits, creator, other_creator, art):
    from django.test import Client

    bob = verified_site(other_creator, "http://bob.example/")
    for use in ("train-ai", "train-genai"):
        Preference.objects.create(owner=other_creator, work=None, use=use, choice="allow")
    work = factories.WorkFactory(owner=creator)
    WorkIdentifier.objects.create(work=work, scheme="url", value="https://ada.example/art/open")
    for use in ("train-ai", "train-genai"):
        Preference.objects.create(owner=creator, work=work, use=use, choice="allow")
    lines = [
        "https://www.ada.example/art/x.jpg",  # their site, their default: denied
        "https://ada.example/artificial",  # not their site
        "https://bob.example/songs/1",  # their site, their default: allowed
        "https://ada.example/art/open",  # a work of theirs under the site, allowed
    ]
    client = Client(HTTP_AUTHORIZATION=f"API {developer_key[1]}")
    response = client.post("/api/v2/query/urls/", "\n".join(lines).encode(), "text/plain")
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    assert response.json() == {
        "urls": [
            {"url": lines[0], "optOut": True, "optIn": False},
            {"url": lines[1], "optOut": False, "optIn": False},
            {"url": lines[2], "optOut": False, "optIn": True},
            {"url": lines[3], "optOut": False, "optIn": True},
        ]
    }
    assert bob.host == "bob.example"
