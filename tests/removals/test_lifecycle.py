"""The removal request's state machine, through its services: filing, moderation, the notices
of an approval, retraction, closing — and every illegal step refused with nothing changed."""

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.models import Mandate
from consent import services as consent_services
from consent.decisions import decide
from notices.deadlines import deadlines_run
from notices.models import Delivery, Notice, NoticeAnswer
from notices.services import answer_record
from removals import contests, services
from removals.models import RemovalEvent, RemovalRequest
from tests import factories
from works.models import Conflict, Work

Status = RemovalRequest.Status


def _actions(request):
    return list(request.events.values_list("action", flat=True))


def test_approval_sends_one_notice_per_developer_with_deadline_manifest_and_events(
    make_request,
    guild_staff,
    developer,
    other_developer,
    two_works,
    django_capture_on_commit_callbacks,
):
    request = make_request()

    with django_capture_on_commit_callbacks(execute=True):
        notices = services.request_approve(actor=guild_staff, request=request)

    request.refresh_from_db()
    assert request.status == Status.APPROVED and request.decided_by == guild_staff
    assert {n.developer for n in notices} == {developer, other_developer}
    for notice in notices:
        assert notice.topic == f"removal:{request.pk}"
        assert notice.answer_due_at - timezone.now() > timedelta(days=29)
        assert {a.filename for a in notice.attachments.all()} == {
            "works.csv",
            "works.json",
            "request.json",
        }
        manifest = json.loads(bytes(notice.attachments.get(filename="works.json").content))
        assert {w["title"] for w in manifest["works"]} == {w.title for w in two_works}
        # They gave no mandate: they ask in their own name; the guild vouches for their claims.
        assert notice.text.count("Alice Author writes to you") == 1
        assert (
            "Writers' Guild of Great Britain has checked that Alice Author is its member"
            in notice.text
        )
        assert "Remove them from training datasets" in notice.text
        assert notice.deliveries.get().status in (Delivery.Status.QUEUED, Delivery.Status.DELIVERED)
    # Their self-declared claims were verified as part of the review.
    assert set(
        Work.objects.filter(pk__in=[w.pk for w in two_works]).values_list("claim_state", flat=True)
    ) == {"verified"}
    assert _actions(request) == [
        "created",
        "submitted",
        "claim_verified",
        "approved",
        "sent",
        "sent",
    ]
    assert any("is approved" in m.subject for m in mail.outbox)


def test_approving_twice_sends_nothing_twice(make_request, guild_staff):
    request = make_request()
    services.request_approve(actor=guild_staff, request=request)

    with pytest.raises(ValidationError, match="cannot be approved"):
        services.request_approve(actor=guild_staff, request=request)
    assert Notice.objects.filter(topic=request.topic).count() == 2


@pytest.mark.parametrize("step", ["withdraw", "reject"])
def test_a_withdrawn_or_rejected_request_cannot_be_approved(
    make_request, creator, guild_staff, step
):
    request = make_request()
    if step == "withdraw":
        services.request_withdraw(actor=creator, request=request)
    else:
        services.request_reject(actor=guild_staff, request=request, reason="Not enough proof.")

    with pytest.raises(ValidationError):
        services.request_approve(actor=guild_staff, request=request)
    assert not Notice.objects.filter(topic=request.topic).exists()


def test_a_draft_cannot_be_approved_and_an_approved_request_cannot_be_withdrawn(
    make_request, creator, guild_staff
):
    draft = make_request(submit=False)
    with pytest.raises(ValidationError):
        services.request_approve(actor=guild_staff, request=draft)
    request = make_request()
    services.request_approve(actor=guild_staff, request=request)
    with pytest.raises(ValidationError, match="cannot be withdrawn"):
        services.request_withdraw(actor=creator, request=request)


def test_submitting_needs_works_developers_asks_and_both_statements(creator, developer):
    request = services.draft_create(actor=creator, creator=creator)

    with pytest.raises(ValidationError) as caught:
        services.request_submit(actor=creator, request=request, good_faith=True, accurate=False)
    assert len(caught.value.messages) == 4
    request.refresh_from_db()
    assert request.status == Status.DRAFT


def test_only_their_guilds_staff_moderate_never_their_own(
    make_request, other_guild_staff, superuser, creator, guild_staff
):
    request = make_request()
    for outsider in (other_guild_staff, superuser, creator):
        with pytest.raises(PermissionDenied):
            services.request_approve(actor=outsider, request=request)
    # Staff filing their own request cannot moderate it.
    factories.MembershipFactory(
        user=guild_staff, guild=creator.memberships.get().guild, verified=True
    )
    own = services.draft_create(actor=guild_staff, creator=guild_staff)
    own.status = Status.SUBMITTED
    own.save()
    with pytest.raises(PermissionDenied):
        services.review_start(actor=guild_staff, request=own)


def test_superusers_moderate_for_a_creator_without_a_guild(superuser, developer, db):
    loner = factories.UserFactory(email="loner@example.org")
    work = factories.WorkFactory(owner=loner)
    request = services.draft_create(actor=loner, creator=loner)
    services.draft_update(
        actor=loner, request=request, works=[work], developers=[developer], asks=["cease"]
    )
    services.request_submit(actor=loner, request=request, good_faith=True, accurate=True)

    notices = services.request_approve(actor=superuser, request=request)
    assert len(notices) == 1
    assert "writes to you" in notices[0].text


def test_more_information_goes_back_to_them_and_returns_to_the_queue(
    make_request, creator, guild_staff, django_capture_on_commit_callbacks
):
    request = make_request()
    services.review_start(actor=guild_staff, request=request)
    with django_capture_on_commit_callbacks(execute=True):
        services.info_request(actor=guild_staff, request=request, question="Which edition?")
    request.refresh_from_db()
    assert request.status == Status.NEEDS_INFO
    assert any("needs more information" in m.subject for m in mail.outbox)

    with pytest.raises(ValidationError, match="Answer the staff"):
        services.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
    services.request_submit(
        actor=creator, request=request, good_faith=True, accurate=True, answer="The 2019 one."
    )
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED and request.reviewer is None
    assert request.events.get(action="info_given").note == "The 2019 one."


def test_a_blocking_conflict_prevents_approval(make_request, guild_staff, two_works, other_creator):
    earlier = factories.WorkFactory(owner=other_creator, title="The Lighthouse (theirs)")
    Work.objects.filter(pk=earlier.pk).update(
        claim_state=Work.Claim.VERIFIED,
        claim_decided_at=timezone.now(),
        created_at=timezone.now() - timedelta(days=400),
    )
    Conflict.objects.create(work_a=earlier, work_b=two_works[0], matches=[{"kind": "isbn"}])
    request = make_request()

    with pytest.raises(ValidationError, match="held by a conflict"):
        services.request_approve(actor=guild_staff, request=request)
    assert not Notice.objects.filter(topic=request.topic).exists()
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


def test_the_reviewer_must_see_a_licence_grant_to_an_addressed_developer(
    make_request, guild_staff, creator, developer
):
    consent_services.grant_create(
        actor=creator,
        owner=creator,
        developer=developer,
        uses=["train-genai"],
        licence_ref="LIC-7",
        starts_on=timezone.localdate(),
    )
    request = make_request()
    with pytest.raises(ValidationError, match="licence"):
        services.request_approve(actor=guild_staff, request=request)

    notices = services.request_approve(actor=guild_staff, request=request, grants_acknowledged=True)
    letter = next(n for n in notices if n.developer == developer)
    assert "LIC-7" in letter.text
    other = next(n for n in notices if n.developer != developer)
    assert "LIC-7" not in other.text


def test_retraction_notifies_exactly_the_developers_notified_before(
    make_request, creator, guild_staff, developer, other_developer
):
    request = make_request()
    services.request_approve(actor=guild_staff, request=request)
    third = factories.AIDeveloperFactory(name="Late Comer", slug="late-comer")
    request.developers.add(third)  # added after the notices went: never notified

    retractions = services.request_retract(actor=creator, request=request, reason="Settled.")

    assert {n.developer for n in retractions} == {developer, other_developer}
    assert all(not n.answerable for n in retractions)
    request.refresh_from_db()
    assert request.status == Status.RETRACTED
    with pytest.raises(ValidationError):
        services.request_retract(actor=creator, request=request)
    assert Notice.objects.filter(topic=request.topic, key__contains=":retraction:").count() == 2


def test_answers_reach_their_timeline_and_close_the_request_when_all_are_final(
    make_request, guild_staff, creator
):
    request = make_request()
    first, second = services.request_approve(actor=guild_staff, request=request)

    answer_record(notice=first, kind=NoticeAnswer.Kind.ACKNOWLEDGED, via=NoticeAnswer.Via.LINK)
    complied, _ = answer_record(
        notice=first, kind=NoticeAnswer.Kind.COMPLIED, statement="Removed.", via="link"
    )
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    answer_record(notice=second, kind="disputed", statement="Licensed elsewhere.", via="link")

    # Issue 20: a "complied" is settled only once the creator accepts it (or lets the time to
    # contest it pass): until then the request stays open.
    request.refresh_from_db()
    assert request.status == Status.APPROVED
    contests.compliance_accept(actor=creator, contest=complied.compliance_contest)
    request.refresh_from_db()
    assert request.status == Status.CLOSED
    notes = list(request.events.filter(action="answered").values_list("note", flat=True))
    assert notes == ["Acknowledged", "Complied: Removed.", "Disputed: Licensed elsewhere."]


def test_an_overdue_notice_goes_on_their_timeline_once(make_request, guild_staff, settings):
    settings.NOTICES_REMINDER_OFFSETS = []
    request = make_request()
    notices = services.request_approve(actor=guild_staff, request=request)
    later = notices[0].answer_due_at + timedelta(days=1)

    deadlines_run(now=later)
    deadlines_run(now=later)

    assert request.events.filter(action=RemovalEvent.Action.OVERDUE).count() == 2  # one per notice


def test_staff_file_for_a_member_only_under_their_mandate(
    creator, guild_staff, other_guild_staff, wggb, django_capture_on_commit_callbacks
):
    with pytest.raises(PermissionDenied):
        services.draft_create(actor=guild_staff, creator=creator)
    Mandate.objects.create(creator=creator, guild=wggb)

    with django_capture_on_commit_callbacks(execute=True):
        request = services.draft_create(actor=guild_staff, creator=creator)
    assert request.mandate is not None and request.filed_by == guild_staff
    assert any("started a removal request for you" in m.subject for m in mail.outbox)
    with pytest.raises(PermissionDenied):
        services.draft_create(actor=other_guild_staff, creator=creator)


def test_deny_overrides_match_what_they_asked(make_request, creator, guild_staff, two_works):
    request = make_request(asks=("inference",))
    services.request_approve(actor=guild_staff, request=request)

    assert services.deny_overrides_record(actor=creator, request=request) == 1
    assert decide(two_works[0], "ai-input").choice == "deny"
    assert services.deny_overrides_record(actor=creator, request=request) == 0  # already so


def test_a_request_names_only_their_own_active_works(
    make_request, creator, other_creator, developer
):
    request = make_request(submit=False)
    theirs = factories.WorkFactory(owner=other_creator)
    with pytest.raises(ValidationError, match="own works"):
        services.draft_update(actor=creator, request=request, works=[theirs])
    with pytest.raises(PermissionDenied):
        services.draft_update(actor=other_creator, request=request, title="Hijack")


def test_closing_or_retracting_stops_the_reminders_of_unanswered_notices(
    make_request, creator, guild_staff, settings
):
    settings.NOTICES_REMINDER_OFFSETS = [86400]
    closed, retracted = make_request(), make_request()
    closed_notices = services.request_approve(actor=guild_staff, request=closed)
    retracted_notices = services.request_approve(actor=guild_staff, request=retracted)
    services.request_close(actor=guild_staff, request=closed, reason="Settled out of court.")
    services.request_retract(actor=creator, request=retracted)

    due = closed_notices[0].answer_due_at
    counts = deadlines_run(now=due - timedelta(hours=1))
    counts_late = deadlines_run(now=due + timedelta(days=1))

    assert counts == {"reminders": 0, "overdue": 0} == counts_late
    assert not Notice.objects.filter(reminds__in=closed_notices + retracted_notices).exists()


def test_their_guild_writes_as_their_agent_only_under_their_mandate(
    make_request, creator, guild_staff, wggb
):
    Mandate.objects.create(creator=creator, guild=wggb)
    request = make_request()

    notices = services.request_approve(actor=guild_staff, request=request)

    letter = notices[0].text
    assert (
        "Writers' Guild of Great Britain writes as the agent of its member Alice Author" in letter
    )
    manifest = json.loads(bytes(notices[0].attachments.get(filename="request.json").content))
    assert manifest["asked_by"]["agent"] == "Writers' Guild of Great Britain"


def test_a_work_archived_after_submission_stops_the_approval(make_request, guild_staff, two_works):
    request = make_request()
    Work.objects.filter(pk=two_works[0].pk).update(status=Work.Status.ARCHIVED)

    with pytest.raises(ValidationError, match="archived since the request was sent"):
        services.request_approve(actor=guild_staff, request=request)
    assert not Notice.objects.filter(topic=request.topic).exists()


def test_a_request_sent_back_and_never_answered_can_be_rejected(make_request, guild_staff):
    request = make_request()
    services.info_request(actor=guild_staff, request=request, question="Which edition?")

    services.request_reject(actor=guild_staff, request=request, reason="No answer in 3 months.")

    request.refresh_from_db()
    assert request.status == Status.REJECTED


def test_a_developer_deactivated_since_its_notice_still_gets_the_retraction(
    make_request, creator, guild_staff, developer, other_developer
):
    request = make_request()
    services.request_approve(actor=guild_staff, request=request)
    developer.is_active = False
    developer.save()

    retractions = services.request_retract(actor=creator, request=request)

    assert {n.developer for n in retractions} == {developer, other_developer}
    request.refresh_from_db()
    assert request.status == Status.RETRACTED
