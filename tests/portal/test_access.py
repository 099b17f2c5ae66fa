"""Every page of the foundation, for every persona: the right people get it, everyone else a
redirect to sign in (anonymous), 403 (no role) or 404 (someone else's object) — and no page
ever shows another person's data."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from tests import factories

OK, FORBIDDEN, NOT_FOUND, LOGIN = HTTPStatus.OK, HTTPStatus.FORBIDDEN, HTTPStatus.NOT_FOUND, "login"
PERSONAS = [
    "anonymous",
    "creator",
    "other_creator",
    "guild_staff",
    "other_guild_staff",
    "registry_manager",
    "superuser",
]


@pytest.fixture
def pending_claim(wggb):
    """Dora's claim of Writers' Guild membership, awaiting its staff."""
    profile = factories.CreatorProfileFactory(
        display_name="Dora Draft", user__email="dora@example.org"
    )
    return factories.MembershipFactory(user=profile.user, guild=wggb, membership_number="WG-555")


def _get(client, request, persona, url):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client.get(url)


def _check(response, expected):
    if expected == LOGIN:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected


# view name -> expected result per persona, in the order of PERSONAS
TABLE = {
    "portal:home": [OK, OK, OK, OK, OK, OK, OK],
    "portal:dashboard": [LOGIN, OK, OK, OK, OK, OK, OK],
    "portal:staff-dashboard": [LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN, FORBIDDEN],
    "portal:registry-dashboard": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK, OK],
    "portal:admin-dashboard": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    "accounts:profile": [LOGIN, OK, OK, OK, OK, OK, OK],
    "accounts:membership-claim": [LOGIN, OK, OK, OK, OK, OK, OK],
    "accounts:membership-queue": [LOGIN, FORBIDDEN, FORBIDDEN, OK, OK, FORBIDDEN, FORBIDDEN],
    "accounts:guild-list": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    "accounts:guild-create": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
    "accounts:roles": [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK],
}


@pytest.mark.parametrize("view", TABLE)
@pytest.mark.parametrize("persona", PERSONAS)
def test_page_access(client, request, view, persona, creator, other_creator):
    expected = TABLE[view][PERSONAS.index(persona)]
    _check(_get(client, request, persona, reverse(view)), expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", LOGIN),
        ("creator", NOT_FOUND),
        ("other_creator", NOT_FOUND),
        ("guild_staff", OK),
        ("other_guild_staff", NOT_FOUND),
        ("registry_manager", NOT_FOUND),
        ("superuser", NOT_FOUND),
    ],
)
def test_membership_claim_is_decided_only_by_its_guilds_staff(
    client, request, persona, expected, pending_claim
):
    response = _get(
        client, request, persona, reverse("accounts:membership-decide", args=[pending_claim.pk])
    )
    _check(response, expected)
    if expected == OK:
        assert b"WG-555" in response.content


@pytest.mark.parametrize("view", ["accounts:guild-detail", "accounts:guild-edit"])
@pytest.mark.parametrize("persona", PERSONAS)
def test_guild_management_pages_are_for_superusers(client, request, persona, view, wggb):
    expected = [LOGIN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, FORBIDDEN, OK][
        PERSONAS.index(persona)
    ]
    _check(_get(client, request, persona, reverse(view, args=[wggb.slug])), expected)


@pytest.mark.parametrize(
    "persona", ["creator", "guild_staff", "other_guild_staff", "registry_manager"]
)
def test_role_changes_by_post_are_refused_to_non_superusers(
    client, request, persona, wggb, charlie
):
    client.force_login(request.getfixturevalue(persona))
    posts = [
        (reverse("accounts:staff-appoint", args=[wggb.slug]), {"email": charlie.email}),
        (reverse("accounts:registry-manager-set"), {"email": charlie.email, "grant": "1"}),
        (reverse("accounts:guild-create"), {"name": "Rogue", "slug": "rogue"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == FORBIDDEN
    charlie.refresh_from_db()
    assert not charlie.is_registry_manager
    assert not charlie.staff_appointments.exists()


def test_staff_queue_lists_only_their_guilds_claims(client, guild_staff, pending_claim, mu):
    elsewhere = factories.MembershipFactory(guild=mu, membership_number="MU-999")
    client.force_login(guild_staff)
    page = client.get(reverse("accounts:membership-queue")).content.decode()
    assert "WG-555" in page
    assert "MU-999" not in page and elsewhere.user.email not in page


def test_creator_dashboard_shows_only_their_own_memberships(client, creator, other_creator):
    client.force_login(creator)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert "Writers&#x27; Guild" in page or "Writers' Guild" in page
    assert "Musicians" not in page
    assert other_creator.email not in page
