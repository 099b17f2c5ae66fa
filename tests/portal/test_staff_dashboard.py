"""The guild-staff dashboard counts every queue that waits on this person — membership claims,
works' claims to verify, conflicts — and only those of their own guilds."""

from django.urls import reverse
from django.utils import timezone

from removals import services as removal_services
from tests import factories
from works import services as works_services


def test_the_dashboard_counts_each_queue_of_their_guild_only(
    client,
    guild_staff,
    other_guild_staff,
    creator,
    other_creator,
    wggb,
    django_assert_max_num_queries,
):
    factories.MembershipFactory(guild=wggb)  # a membership claim waiting
    work = factories.WorkFactory(owner=creator)
    work.claim_requested_at = timezone.now()
    work.save()
    work.evidence.create(statement="contract", added_by=creator)
    # Two verified members of the Writers' Guild claim the same ISBN: a conflict for its staff.
    fellow = factories.MembershipFactory(guild=wggb, verified=True).user
    works_services.work_create(
        owner=creator, title="A", kind="book", identifiers={"isbn": ["9780306406157"]}
    )
    works_services.work_create(
        owner=fellow, title="B", kind="book", identifiers={"isbn": ["9780306406157"]}
    )

    # A removal request of theirs waits for their guild's review.
    request = removal_services.draft_create(actor=creator, creator=creator)
    developer = factories.AIDeveloperFactory()
    removal_services.draft_update(
        actor=creator, request=request, works=[work], developers=[developer], asks=["cease"]
    )
    removal_services.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
    keys = ("queue_count", "work_claims_count", "conflicts_count", "removals_waiting")

    client.force_login(guild_staff)
    # 18: the removal queue and its overdue notices (3) came after the first bound of 15.
    with django_assert_max_num_queries(18):
        response = client.get(reverse("portal:staff-dashboard"))
    counts = {k: response.context[k] for k in keys}
    assert counts == {
        "queue_count": 1,
        "work_claims_count": 1,
        "conflicts_count": 1,
        "removals_waiting": 1,
    }

    client.force_login(other_guild_staff)
    response = client.get(reverse("portal:staff-dashboard"))
    counts = {k: response.context[k] for k in keys}
    assert counts == {
        "queue_count": 0,
        "work_claims_count": 0,
        "conflicts_count": 0,
        "removals_waiting": 0,
    }


def test_the_superuser_dashboard_counts_their_own_queues(
    client, superuser, creator, other_creator, charlie
):
    lone = factories.WorkFactory(owner=charlie)
    works_services.claim_request(actor=charlie, work=lone, statement="mine")  # no guild: theirs
    works_services.work_create(
        owner=creator, title="A", kind="book", identifiers={"isbn": ["9783161484100"]}
    )
    works_services.work_create(
        owner=other_creator, title="B", kind="book", identifiers={"isbn": ["9783161484100"]}
    )
    client.force_login(superuser)
    response = client.get(reverse("portal:admin-dashboard"))
    assert (response.context["work_claims_count"], response.context["conflicts_count"]) == (1, 1)
    assert response.context["failed_deliveries"] == 0


def test_the_creator_dashboard_shows_their_catalogue_and_ai_choices(
    client, creator, guild_staff, django_assert_max_num_queries
):
    from consent import services as consent_services

    for n in range(3):
        factories.WorkFactory(owner=creator, title=f"Work {n}")
    verified = factories.WorkFactory(owner=creator, title="Verified one")
    works_services.claim_request(actor=creator, work=verified, statement="mine")
    works_services.claim_decide(actor=guild_staff, work=verified, verify=True)
    consent_services.defaults_set(actor=creator, owner=creator, choices={"ai-input": "licence"})

    client.force_login(creator)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal:dashboard"))
    counts = response.context["work_counts"]
    assert (counts["active"], counts["verified"], counts["awaiting"]) == (4, 1, 0)
    page = response.content.decode()
    assert "AI tools may use this work as input only under a licence" in page
    assert "AI companies may not train generative models on this work." in page
    assert "My removal requests" in page and reverse("removals:create") in page
