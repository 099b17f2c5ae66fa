"""The sites pages: who may open each (the owner; the staff a site conflict is routed to; anyone
for a verified site's public page — everyone else 404, the sign-in page, or, for the people of an
AI developer, their own dashboard), and what a creator does there: add a site (bad input gets a
clear error and changes nothing), read its token and how to publish it, check it now (the
status panel polled by htmx), remove it; their profile lists their sites."""

from http import HTTPStatus

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from tests import factories
from works_registry import sites_services
from works_registry.models import Site, SiteConflict

from .test_sites_proof import serving

LOGIN, HOME = "login", "developer-home"
PERSONAS = [
    "anonymous",
    "creator",
    "other_creator",
    "guild_staff",
    "other_guild_staff",
    "superuser",
    "developer",
]


@pytest.fixture
def developer(db):
    return factories.DeveloperMemberFactory().user


@pytest.fixture
def site_server(settings):
    with serving(settings) as server:
        yield server


@pytest.fixture
def site(creator):
    return sites_services.site_declare(actor=creator, address="https://ada.example/art")


def _verify(site: Site) -> Site:
    with transaction.atomic():
        return sites_services.site_verify(site=site, method="meta", now=timezone.now())


@pytest.fixture
def conflict(creator, other_creator, site):
    """Bob verified ada.example before Alice verified /art under it: they share no guild, so it
    goes to superusers."""
    _verify(sites_services.site_declare(actor=other_creator, address="https://ada.example/"))
    _verify(site)
    return SiteConflict.objects.get()


def _request(client, request, persona, method, url, data=None):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client.post(url, data or {}) if method == "post" else client.get(url)


def _check(response, expected):
    if expected == LOGIN:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("account_login"))
    elif expected == HOME:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"] == reverse("developer:home")
    else:
        assert response.status_code == expected, response.content[:400]


OWNER_PAGES = [
    ("get", "sites:detail", HTTPStatus.OK),
    ("get", "sites:status", HTTPStatus.OK),
    ("post", "sites:check", HTTPStatus.FOUND),
    ("get", "sites:remove", HTTPStatus.OK),
    ("post", "sites:remove", HTTPStatus.FOUND),
]


@pytest.mark.parametrize(("method", "view", "owner_gets"), OWNER_PAGES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_a_sites_pages_are_its_owners_alone(
    client, request, persona, method, view, owner_gets, site, django_capture_on_commit_callbacks
):
    expected = {
        "anonymous": LOGIN,
        "creator": owner_gets,
        "developer": HOME,
    }.get(persona, HTTPStatus.NOT_FOUND)
    with django_capture_on_commit_callbacks(execute=False):  # no check leaves for the net
        response = _request(client, request, persona, method, reverse(view, args=[site.public_id]))
    _check(response, expected)
    site.refresh_from_db()
    if persona != "creator":  # nobody else's request changed it
        assert site.status == Site.Status.PENDING and site.check_requested_at is None


@pytest.mark.parametrize("persona", PERSONAS)
def test_the_list_shows_each_creator_only_their_own_sites(client, request, persona, site):
    expected = {"anonymous": LOGIN, "developer": HOME}.get(persona, HTTPStatus.OK)
    response = _request(client, request, persona, "get", reverse("sites:list"))
    _check(response, expected)
    if expected == HTTPStatus.OK:
        mine = site.get_absolute_url().encode()
        assert (mine in response.content) == (persona == "creator")


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_verified_sites_public_page_is_for_everyone(client, request, persona, site, creator):
    url = reverse("sites:public", args=[site.public_id])
    _check(_request(client, request, persona, "get", url), HTTPStatus.NOT_FOUND)  # pending
    _verify(site)
    response = _request(client, request, persona, "get", url)
    _check(response, HTTPStatus.OK)
    content = response.content.decode()
    assert "The site of Alice Author" in content and "https://ada.example/art" in content
    assert "AI companies may not train generative models on this site." in content
    assert site.token not in content and creator.email not in content


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", LOGIN),
        ("creator", HTTPStatus.NOT_FOUND),  # theirs: never handled by them
        ("other_creator", HTTPStatus.NOT_FOUND),
        ("guild_staff", HTTPStatus.NOT_FOUND),  # routed to superusers: no shared guild
        ("other_guild_staff", HTTPStatus.NOT_FOUND),
        ("developer", HTTPStatus.NOT_FOUND),
        ("superuser", HTTPStatus.OK),
    ],
)
def test_a_site_conflict_is_for_the_staff_it_is_routed_to(
    client, request, persona, expected, conflict
):
    detail = reverse("sites:conflict-detail", args=[conflict.pk])
    _check(_request(client, request, persona, "get", detail), expected)
    resolve = reverse("sites:conflict-resolve", args=[conflict.pk])
    data = {"resolve-resolution": "a_stands", "resolve-reason": "Bob's domain."}
    response = _request(client, request, persona, "post", resolve, data)
    _check(response, HTTPStatus.FOUND if expected == HTTPStatus.OK else expected)
    conflict.refresh_from_db()
    assert (conflict.status == "resolved") == (expected == HTTPStatus.OK)


# --- What they do --------------------------------------------------------------------------


def test_a_creator_adds_a_site_and_reads_how_to_prove_it(client, creator):
    client.force_login(creator)
    response = client.post(reverse("sites:list"), {"url": "www.ada.example/tom&jerry/"})
    site = Site.objects.get(owner=creator)
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == reverse("sites:detail", args=[site.public_id])
    assert (site.url, site.host, site.path) == (
        "https://www.ada.example/tom&jerry",
        "ada.example",
        "/tom&jerry",
    )
    page = client.get(response["Location"]).content.decode()
    assert "www.ada.example/tom&amp;jerry" in page and "tom&jerry" not in page
    assert site.token in page
    assert "https://www.ada.example/.well-known/creator-consent.txt" in page
    assert f"&lt;meta name=&quot;creator-consent&quot; content=&quot;{site.token}&quot;&gt;" in page
    assert "Waiting for proof" in page


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "Enter your site"),
        ("https://10.0.0.7/", "not by an IP address"),
        ("http://router.lan/", "private name"),
        ("https://ada.example/?x=1", "“#…” part"),
        ('https://ada.example/"><script>alert(1)</script>', "cannot contain"),
    ],
)
def test_a_bad_address_gets_a_clear_error_and_changes_nothing(client, creator, typed, words):
    client.force_login(creator)
    response = client.post(reverse("sites:list"), {"url": typed})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    content = response.content.decode()
    assert words in content and "<script>alert(1)" not in content
    assert 'aria-invalid="true"' in content
    assert not Site.objects.exists()


def test_a_site_already_declared_is_refused(client, creator, site):
    client.force_login(creator)
    response = client.post(reverse("sites:list"), {"url": "http://www.ada.example/art/"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "already declared this site" in response.content.decode()
    assert Site.objects.count() == 1


def test_check_now_shows_the_result_in_the_status_panel(
    client, creator, site_server, django_capture_on_commit_callbacks
):
    client.force_login(creator)
    site = sites_services.site_declare(actor=creator, address=site_server.url + "/")
    site_server.publish_meta(site.token)
    url = reverse("sites:check", args=[site.public_id])
    with django_capture_on_commit_callbacks(execute=True):  # the worker runs after commit
        response = client.post(url, HTTP_HX_REQUEST="true")
    assert response.status_code == HTTPStatus.OK
    panel = response.content.decode()
    assert panel.lstrip().startswith('<section id="site-status"')
    assert "Checking your site" in panel
    assert f'hx-get="{reverse("sites:status", args=[site.public_id])}"' in panel  # it polls
    panel = client.get(reverse("sites:status", args=[site.public_id])).content.decode()
    assert "Verified" in panel and "the token was found" in panel
    assert "hx-trigger" not in panel  # nothing left to poll
    # A check while one runs: refused in the panel, nothing queued.
    Site.objects.filter(pk=site.pk).update(check_requested_at=timezone.now())
    response = client.post(url, HTTP_HX_REQUEST="true")
    assert "already under way" in response.content.decode()
    assert 'hx-trigger="every 2s"' in response.content.decode()  # it polls the running check


def test_a_creator_removes_a_site(client, creator, site):
    client.force_login(creator)
    confirm = client.get(reverse("sites:remove", args=[site.public_id]))
    assert "Remove ada.example/art?" in confirm.content.decode()
    response = client.post(reverse("sites:remove", args=[site.public_id]))
    assert response["Location"] == reverse("sites:list")
    site.refresh_from_db()
    assert site.status == Site.Status.REMOVED
    page = client.get(reverse("sites:list")).content.decode()
    assert "Removed sites" in page and "You have not added a site yet" in page
    assert (
        client.get(reverse("sites:remove", args=[site.public_id])).status_code
        == HTTPStatus.NOT_FOUND
    )


def test_their_profile_lists_their_sites(client, creator, other_creator, site):
    _verify(site)
    sites_services.site_declare(actor=other_creator, address="https://bob.example/")
    client.force_login(creator)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "My sites" in page and "ada.example/art" in page and "bob.example" not in page
    assert reverse("sites:public", args=[site.public_id]) in page


def test_the_conflict_queue_lists_site_conflicts_and_staff_resolve_them(
    client, superuser, creator, other_creator, conflict
):
    client.force_login(superuser)
    queue = client.get(reverse("works:conflict-queue")).content.decode()
    assert f"Site conflict {conflict.pk}" in queue
    detail = client.get(reverse("sites:conflict-detail", args=[conflict.pk])).content.decode()
    assert "https://ada.example/" in detail and "https://ada.example/art" in detail
    response = client.post(
        reverse("sites:conflict-resolve", args=[conflict.pk]), {"resolve-resolution": "b_stands"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST  # a reason is required
    assert "Say why" in response.content.decode()
    client.post(
        reverse("sites:conflict-resolve", args=[conflict.pk]),
        {"resolve-resolution": "b_stands", "resolve-reason": "Alice's portfolio."},
    )
    conflict.refresh_from_db()
    assert conflict.resolution == "b_stands" and conflict.resolved_by == superuser
    assert conflict.site_a.status == Site.Status.REMOVED  # Bob's
    assert conflict.site_b.status == Site.Status.VERIFIED
    resolved = client.get(reverse("works:conflict-queue") + "?show=resolved").content.decode()
    assert f"Site conflict {conflict.pk}" in resolved
