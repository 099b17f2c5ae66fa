"""Who sees which work page: the owner sees theirs; the staff verifying their claim see what they
need; everyone else gets 404 (or the sign-in page) — never someone else's private data."""

from http import HTTPStatus

import pytest
from django.urls import reverse

OK, NOT_FOUND, FORBIDDEN, LOGIN = HTTPStatus.OK, HTTPStatus.NOT_FOUND, HTTPStatus.FORBIDDEN, "login"
PERSONAS = [
    "anonymous",
    "creator",
    "other_creator",
    "guild_staff",
    "other_guild_staff",
    "superuser",
]


def _get(client, request, persona, url):
    if persona != "anonymous":
        client.force_login(request.getfixturevalue(persona))
    return client.get(url)


def _check(response, expected):
    if expected == LOGIN:
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("account_login"))
    else:
        assert response.status_code == expected, response.content[:500]


OWNER_ONLY = ["works:detail", "works:edit", "works:file-status"]


@pytest.mark.parametrize("view", OWNER_ONLY)
@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", LOGIN),
        ("creator", OK),
        ("other_creator", NOT_FOUND),
        ("guild_staff", NOT_FOUND),
        ("other_guild_staff", NOT_FOUND),
        ("superuser", NOT_FOUND),
    ],
)
def test_owner_pages(client, request, persona, expected, view, pending_work):
    _check(_get(client, request, persona, reverse(view, args=[pending_work.public_id])), expected)


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", LOGIN),
        ("creator", NOT_FOUND),
        ("other_creator", NOT_FOUND),
        ("guild_staff", OK),
        ("other_guild_staff", NOT_FOUND),
        ("superuser", NOT_FOUND),
    ],
)
def test_claim_review_is_for_the_staff_of_the_creators_guild(
    client, request, persona, expected, pending_work
):
    _check(
        _get(
            client, request, persona, reverse("works:claim-review", args=[pending_work.public_id])
        ),
        expected,
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("anonymous", LOGIN),
        ("creator", FORBIDDEN),
        ("other_creator", FORBIDDEN),
        ("guild_staff", OK),
        ("other_guild_staff", OK),
        ("superuser", OK),
    ],
)
def test_claim_queue_page(client, request, persona, expected, pending_work):
    _check(_get(client, request, persona, reverse("works:claim-queue")), expected)


def test_the_claim_queue_of_another_guild_does_not_list_the_work(
    client, other_guild_staff, pending_work
):
    client.force_login(other_guild_staff)
    assert pending_work.title not in client.get(reverse("works:claim-queue")).content.decode()


@pytest.mark.parametrize("persona", PERSONAS)
def test_public_page_is_public(client, request, persona, work):
    response = _get(client, request, persona, reverse("works:public", args=[work.public_id]))
    assert response.status_code == OK
    page = response.content.decode()
    assert "The Quiet Harbour" in page and "Alice Author" in page
    assert work.owner.email not in page


def test_unknown_public_id_is_404(client, db):
    assert client.get(reverse("works:public", args=["no-such-work-id"])).status_code == NOT_FOUND


def test_works_list_shows_only_my_works(client, creator, work, other_work):
    client.force_login(creator)
    page = client.get(reverse("works:list")).content.decode()
    assert "The Quiet Harbour" in page
    assert "Bob&#x27;s Bassline" not in page and "Bob's Bassline" not in page


@pytest.mark.parametrize("persona", ["other_creator", "guild_staff"])
def test_posts_to_another_creators_work_are_404_and_change_nothing(client, request, persona, work):
    client.force_login(request.getfixturevalue(persona))
    urls = [
        (reverse("works:edit", args=[work.public_id]), {"title": "Stolen", "kind": "book"}),
        (reverse("works:set-status", args=[work.public_id]), {"archived": "1"}),
        (reverse("works:claim-request", args=[work.public_id]), {"statement": "mine now"}),
    ]
    for url, data in urls:
        assert client.post(url, data).status_code == NOT_FOUND
    work.refresh_from_db()
    assert work.title == "The Quiet Harbour" and work.status == "active"
    assert work.claim_requested_at is None and not work.evidence.exists()
