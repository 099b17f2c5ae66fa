from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from tests import factories
from works import services
from works.models import Work


def test_a_new_work_is_self_declared(work):
    assert work.claim_state == Work.Claim.SELF_DECLARED
    assert not work.claim_pending


def test_creator_asks_for_verification_with_a_statement(client, creator, work):
    client.force_login(creator)
    response = client.post(
        reverse("works:claim-request", args=[work.public_id]),
        {
            "statement": "Harbour Press contract 2018-44",
            "url": "https://harbourpress.example/quiet",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    work.refresh_from_db()
    assert work.claim_pending
    evidence = work.evidence.get()
    assert evidence.url == "https://harbourpress.example/quiet"


def test_asking_without_any_evidence_is_refused(client, creator, work):
    client.force_login(creator)
    response = client.post(reverse("works:claim-request", args=[work.public_id]), {})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Attach some evidence" in response.content.decode()
    work.refresh_from_db()
    assert not work.claim_pending


def test_staff_verify_and_the_creator_is_emailed(
    client, guild_staff, pending_work, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(guild_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("works:claim-review", args=[pending_work.public_id]), {"decision": "verify"}
        )
    assert response.status_code == HTTPStatus.FOUND
    pending_work.refresh_from_db()
    assert pending_work.claim_state == Work.Claim.VERIFIED
    assert pending_work.claim_decided_by == guild_staff
    assert (
        len(mailoutbox) == 1 and "The Quiet Harbour" in mailoutbox[0].subject + mailoutbox[0].body
    )
    assert AuditEvent.objects.filter(action="claim.verify", actor=guild_staff).exists()
    # The claim state shows wherever the work does.
    public = client.get(reverse("works:public", args=[pending_work.public_id])).content.decode()
    assert "Verified" in public


def test_rejection_needs_a_reason(client, guild_staff, pending_work):
    client.force_login(guild_staff)
    url = reverse("works:claim-review", args=[pending_work.public_id])
    response = client.post(url, {"decision": "reject", "reason": ""})
    assert "Say why" in response.content.decode()
    client.post(url, {"decision": "reject", "reason": "The publisher names another author."})
    pending_work.refresh_from_db()
    assert pending_work.claim_state == Work.Claim.REJECTED
    assert pending_work.claim_reason == "The publisher names another author."


def test_staff_of_another_guild_cannot_decide(other_guild_staff, pending_work):
    with pytest.raises(PermissionDenied):
        services.claim_decide(actor=other_guild_staff, work=pending_work, verify=True)


def test_staff_never_verify_their_own_works(guild_staff, wggb):
    factories.MembershipFactory(user=guild_staff, guild=wggb, verified=True)
    own = factories.WorkFactory(owner=guild_staff)
    services.claim_request(actor=guild_staff, work=own, statement="mine")
    with pytest.raises(PermissionDenied):
        services.claim_decide(actor=guild_staff, work=own, verify=True)


def test_creators_without_a_verified_membership_go_to_superusers(
    client, superuser, guild_staff, charlie
):
    lone = factories.WorkFactory(owner=charlie, title="Unaffiliated Poem", kind="poem")
    services.claim_request(actor=charlie, work=lone, statement="I wrote it in 2001.")
    client.force_login(guild_staff)
    assert "Unaffiliated Poem" not in client.get(reverse("works:claim-queue")).content.decode()
    client.force_login(superuser)
    assert "Unaffiliated Poem" in client.get(reverse("works:claim-queue")).content.decode()
    services.claim_decide(actor=superuser, work=lone, verify=True)
    lone.refresh_from_db()
    assert lone.claim_state == Work.Claim.VERIFIED


def test_superusers_do_not_bypass_a_guild(superuser, pending_work):
    with pytest.raises(PermissionDenied):
        services.claim_decide(actor=superuser, work=pending_work, verify=True)


def test_a_decided_claim_cannot_be_decided_twice(guild_staff, pending_work):
    services.claim_decide(actor=guild_staff, work=pending_work, verify=True)
    with pytest.raises(ValidationError):
        services.claim_decide(actor=guild_staff, work=pending_work, verify=False, reason="x")


def test_a_rejected_claim_can_be_asked_again(guild_staff, pending_work):
    services.claim_decide(actor=guild_staff, work=pending_work, verify=False, reason="No proof.")
    services.claim_request(
        actor=pending_work.owner, work=pending_work, statement="Here is the contract."
    )
    pending_work.refresh_from_db()
    assert pending_work.claim_pending and pending_work.evidence.count() == 2


@pytest.mark.parametrize("count", [3, 40])
def test_claim_queue_query_count_is_constant(
    client, guild_staff, wggb, count, django_assert_max_num_queries
):
    for _ in range(count):
        owner = factories.MembershipFactory(guild=wggb, verified=True).user
        work = factories.WorkFactory(owner=owner)
        services.claim_request(actor=owner, work=work, statement="evidence")
    client.force_login(guild_staff)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("works:claim-queue"))
    assert response.status_code == HTTPStatus.OK
