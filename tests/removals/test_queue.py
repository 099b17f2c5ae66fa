"""The moderation queue: requests waiting for a decision, oldest first, for the staff of the
creator's guilds (or superusers when none of them may decide it), never their own; with the
requests sent back to them and the decided ones; a constant number of queries whatever the number
of requests."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from removals import services
from removals.models import RemovalRequest
from tests import factories

Status = RemovalRequest.Status
QUEUE = reverse("removals-staff:queue")


def _review(obj):
    return reverse("removals-staff:review", args=[obj.pk])


def _submitted(creator, developer, *, title="", days_ago=0):
    work = factories.WorkFactory(owner=creator)
    obj = services.draft_create(actor=creator, creator=creator, title=title)
    services.draft_update(
        actor=creator, request=obj, works=[work], developers=[developer], asks=["cease"]
    )
    services.request_submit(actor=creator, request=obj, good_faith=True, accurate=True)
    if days_ago:
        RemovalRequest.objects.filter(pk=obj.pk).update(
            submitted_at=timezone.now() - timedelta(days=days_ago, hours=1)
        )
    obj.refresh_from_db()
    return obj


def _bulk_requests(creator, works, developers, count):
    """``count`` submitted requests in a few queries (for the query-count tests)."""
    now = timezone.now()
    requests = RemovalRequest.objects.bulk_create(
        RemovalRequest(
            creator=creator,
            filed_by=creator,
            status=Status.SUBMITTED,
            title=f"Request {i}",
            asks=["cease"],
            good_faith=True,
            accurate=True,
            submitted_at=now - timedelta(minutes=count - i),
        )
        for i in range(count)
    )
    Works = RemovalRequest.works.through
    Developers = RemovalRequest.developers.through
    Works.objects.bulk_create(Works(removalrequest=r, work=w) for r in requests for w in works)
    Developers.objects.bulk_create(
        Developers(removalrequest=r, aideveloper=d) for r in requests for d in developers
    )
    return requests


# --- Order, contents, scope --------------------------------------------------------------------


def test_queue_lists_oldest_first_with_age_creator_works_and_developers(
    client, guild_staff, creator, developer, other_developer
):
    newer = _submitted(creator, developer, title="Newer request", days_ago=1)
    older = _submitted(creator, other_developer, title="Older request", days_ago=3)
    client.force_login(guild_staff)

    response = client.get(QUEUE)

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert page.index("Older request") < page.index("Newer request")
    assert "waiting 3 days" in page and "waiting 1 day" in page
    assert "Alice Author" in page
    assert "Example AI Ltd" in page and "Other Models Inc" in page
    assert _review(older) in page and _review(newer) in page
    assert "Not started" in page


def test_queue_shows_who_is_reviewing(client, guild_staff, wggb, creator, developer):
    obj = _submitted(creator, developer, title="Taken")
    wendy = factories.CreatorProfileFactory(
        user__email="wendy@wggb.example", display_name="Wendy"
    ).user
    factories.StaffAppointmentFactory(user=wendy, guild=wggb)
    services.review_start(actor=wendy, request=obj)

    client.force_login(guild_staff)
    assert "Wendy is reviewing" in client.get(QUEUE).content.decode()
    client.force_login(wendy)
    assert "You are reviewing" in client.get(QUEUE).content.decode()


def test_other_guilds_staff_see_nothing_of_it(
    client, other_guild_staff, creator, developer, other_creator
):
    mine = _submitted(creator, developer, title="Alice's request")
    theirs = _submitted(other_creator, developer, title="Bob's request")
    client.force_login(other_guild_staff)

    page = client.get(QUEUE).content.decode()

    assert "Alice&#x27;s request" not in page and _review(mine) not in page
    assert _review(theirs) in page
    assert client.get(_review(mine)).status_code == HTTPStatus.NOT_FOUND


def test_superusers_see_only_requests_no_guild_staff_can_decide(
    client, superuser, creator, guild_staff, developer
):
    # Their guild has staff to decide theirs (without any, superusers would: see test_stranded).
    in_guild = _submitted(creator, developer, title="Guild member's")
    loner = factories.UserFactory(email="loner@example.org")
    alone = _submitted(loner, developer, title="On their own")
    client.force_login(superuser)

    page = client.get(QUEUE).content.decode()

    assert _review(alone) in page
    assert _review(in_guild) not in page


def test_staff_never_see_their_own_requests(client, guild_staff, wggb, creator, developer):
    factories.MembershipFactory(user=guild_staff, guild=wggb, verified=True)
    own = _submitted(guild_staff, developer, title="My own")
    by_creator = _submitted(creator, developer, title="By the creator")
    client.force_login(guild_staff)

    page = client.get(QUEUE).content.decode()

    assert _review(by_creator) in page and _review(own) not in page


def test_drafts_and_withdrawn_requests_are_not_in_the_queue(
    client, guild_staff, creator, developer
):
    draft = services.draft_create(actor=creator, creator=creator, title="A draft")
    withdrawn = _submitted(creator, developer, title="Withdrawn one")
    services.request_withdraw(actor=creator, request=withdrawn)
    client.force_login(guild_staff)
    for show in ("waiting", "sent-back", "decided"):
        page = client.get(QUEUE, {"show": show}).content.decode()
        assert _review(draft) not in page and _review(withdrawn) not in page


def test_decided_tab_shows_the_decision_and_who_took_it(
    client, guild_staff, wggb, creator, developer
):
    approved = _submitted(creator, developer, title="Approved one")
    rejected = _submitted(creator, developer, title="Rejected one")
    colleague = factories.StaffAppointmentFactory(guild=wggb).user
    services.request_approve(actor=colleague, request=approved)
    services.request_reject(actor=colleague, request=rejected, reason="Not theirs.")
    client.force_login(guild_staff)

    waiting = client.get(QUEUE).content.decode()
    decided = client.get(QUEUE, {"show": "decided"}).content.decode()

    assert _review(approved) not in waiting and _review(rejected) not in waiting
    assert _review(approved) in decided and _review(rejected) in decided
    assert "Approved — notices sent" in decided and "Rejected" in decided
    assert colleague.email in decided
    assert 'Decided <span class="count">(2)</span>' in decided


def test_an_unknown_tab_falls_back_to_the_waiting_requests(client, guild_staff, creator, developer):
    obj = _submitted(creator, developer)
    client.force_login(guild_staff)
    assert _review(obj) in client.get(QUEUE, {"show": "<nope>"}).content.decode()


def test_queue_is_paginated(client, guild_staff, creator, two_works, developer):
    requests = _bulk_requests(creator, two_works, [developer], 30)
    client.force_login(guild_staff)

    first = client.get(QUEUE).content.decode()
    second = client.get(QUEUE, {"page": 2}).content.decode()

    assert _review(requests[0]) in first and _review(requests[29]) not in first
    assert _review(requests[29]) in second
    assert "Page 2 of 2" in second


# --- Access --------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(QUEUE)
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("persona", ["creator", "charlie", "registry_manager"])
def test_people_without_a_staff_role_are_refused(client, persona, request, make_request):
    make_request()
    client.force_login(request.getfixturevalue(persona))
    assert client.get(QUEUE).status_code == HTTPStatus.FORBIDDEN


def test_a_developers_person_is_refused(client, developer, make_request):
    make_request()
    person = factories.DeveloperMemberFactory(developer=developer).user
    client.force_login(person)
    assert client.get(QUEUE).status_code == HTTPStatus.FORBIDDEN


# --- Query counts --------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [10, 500])
@pytest.mark.parametrize("show", ["waiting", "decided"])
def test_queue_query_count_is_constant(
    client,
    guild_staff,
    creator,
    two_works,
    developer,
    other_developer,
    count,
    show,
    django_assert_max_num_queries,
):
    requests = _bulk_requests(creator, two_works, [developer, other_developer], count)
    if show == "decided":
        RemovalRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
            status=Status.REJECTED, decided_at=timezone.now(), decided_by=guild_staff
        )
    client.force_login(guild_staff)
    with django_assert_max_num_queries(12):
        response = client.get(QUEUE, {"show": show})
    assert response.status_code == HTTPStatus.OK
    assert f"({count})" in response.content.decode()
