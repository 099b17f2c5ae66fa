"""Issue 20, bulk work: the works list acts on many works at once — archive, an AI choice, a
removal request, asking the guild to verify — on the ticked rows or on every work matching the
list's filters (re-selected on the server), confirmed on a page that says how many, in one
request with a constant number of queries for 2,000 works; and guild staff search their claims
queue and verify many claims with one reason."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from accounts.folding import fold_title
from accounts.models import AuditEvent
from accounts.services import profile_update
from consent import services as consent_services
from consent.models import LedgerEntry, Preference
from removals.models import RemovalRequest
from tests import factories
from works.models import ClaimEvidence, Work
from works_registry.models import Change

BULK = reverse("works:bulk")
LIST = reverse("works:list")
QUEUE = reverse("works:claim-queue")


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _many(owner, n, **fields) -> list[Work]:
    """``n`` works of ``owner`` in one insert (the factory would take a minute for 2,000)."""
    works = [
        Work(
            owner=owner,
            title=f"Poem {i:04}",
            title_folded=fold_title(f"Poem {i:04}"),
            kind="poem",
            **fields,
        )
        for i in range(n)
    ]
    return Work.objects.bulk_create(works)


def _post(client, data, query=""):
    return client.post(BULK + (f"?{query}" if query else ""), data)


# --- All matching: 2,000 works, one request, a constant number of queries ------------------------


def test_archive_every_matching_work_in_one_request(client, creator, django_assert_max_num_queries):
    _many(creator, 2000)
    other = factories.WorkFactory(owner=creator, title="A novel", kind="book")
    client.force_login(creator)
    confirm = _post(client, {"action": "archive", "selection": "matching"}, "kind=poem")
    page = confirm.content.decode()
    assert confirm.status_code == HTTPStatus.OK
    assert "2000 works: every work matching your filters." in page
    assert "Archive 2,000 works" in page
    Change.objects.all().delete()
    with django_assert_max_num_queries(20):
        response = _post(
            client, {"action": "archive", "selection": "matching", "confirm": "1"}, "kind=poem"
        )
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] == f"{LIST}?kind=poem"
    assert Work.objects.filter(owner=creator, status="archived").count() == 2000
    other.refresh_from_db()
    assert other.status == "active"  # not matching the filter: untouched
    # What archiving one work writes, for each: an audit row and a row of the change feed.
    rows = AuditEvent.objects.filter(action="work.status", actor=creator)
    assert rows.count() == 2000
    assert rows.first().after == {"status": "archived"}
    assert Change.objects.filter(kind="work").count() == 2000
    assert _messages(response) == [
        "2,000 works archived. Archived works stay on record: show them with “Show: Archived "
        "works”."
    ]


def test_set_an_ai_choice_on_every_matching_work(client, creator, django_assert_max_num_queries):
    _many(creator, 2000)
    # Their consent ledger exists (their first change of consent creates it: a few statements
    # once, whatever the number of works).
    consent_services.defaults_set(actor=creator, owner=creator, choices={"style": "deny"})
    client.force_login(creator)
    data = {"action": "ai_choice", "selection": "matching", "use": "train-genai", "choice": "allow"}
    with django_assert_max_num_queries(20):
        response = _post(client, {**data, "confirm": "1"}, "q=poem")
    assert response.status_code == HTTPStatus.FOUND
    prefs = Preference.objects.filter(owner=creator, use="train-genai", choice="allow")
    assert prefs.count() == 2000
    entry = LedgerEntry.objects.latest("seq")  # the bulk page's service: one entry for all
    assert '"action":"bulk.apply"' in entry.canonical
    assert (
        "Your choice for “Training generative AI” is saved for 2000 works"
        in (_messages(response)[0])
    )


def test_add_every_matching_work_to_a_new_removal_draft(
    client, creator, django_assert_max_num_queries
):
    _many(creator, 2000)
    client.force_login(creator)
    data = {"action": "removal", "selection": "matching", "removal": "new", "confirm": "1"}
    with django_assert_max_num_queries(20):
        response = _post(client, data)
    draft = RemovalRequest.objects.get(creator=creator)
    assert draft.status == "draft"
    assert draft.works.count() == 2000
    assert response["Location"] == reverse("removals:edit", args=[draft.pk])


def test_ticked_works_go_into_an_existing_draft_archived_ones_left_out(client, creator):
    from removals import services as removal_services

    draft = removal_services.draft_create(actor=creator, creator=creator, title="Harbour")
    kept = factories.WorkFactory(owner=creator, title="Already in")
    removal_services.draft_update(actor=creator, request=draft, works=[kept])
    new = factories.WorkFactory(owner=creator, title="New one")
    archived = factories.WorkFactory(owner=creator, title="Old one", status="archived")
    client.force_login(creator)
    confirm = _post(client, {"action": "removal", "work": [new.public_id, archived.public_id]})
    assert "Harbour (started" in confirm.content.decode()  # their draft is offered
    response = _post(
        client,
        {
            "action": "removal",
            "work": [new.public_id, archived.public_id],
            "removal": str(draft.pk),
            "confirm": "1",
        },
    )
    assert set(draft.works.values_list("title", flat=True)) == {"Already in", "New one"}
    assert _messages(response)[0].startswith(
        "1 work added to the request (2 in all). 1 archived left out"
    )


def test_ask_the_guild_to_verify_the_ticked_works(client, creator):
    now = timezone.now()
    waiting = factories.WorkFactory(
        owner=creator, title="Waiting", claim_requested_at=now - timedelta(days=3)
    )
    decided = {"claim_requested_at": now, "claim_decided_at": now}
    rejected = factories.WorkFactory(
        owner=creator, title="Rejected", claim_state="rejected", claim_reason="No proof", **decided
    )
    fresh = factories.WorkFactory(owner=creator, title="Fresh")
    verified = factories.WorkFactory(
        owner=creator, title="Verified", claim_state="verified", **decided
    )
    ids = [w.public_id for w in (waiting, rejected, fresh, verified)]
    before = waiting.claim_requested_at
    client.force_login(creator)
    # Evidence is required, as for one work.
    missing = _post(client, {"action": "verify", "work": ids, "confirm": "1"})
    assert missing.status_code == HTTPStatus.BAD_REQUEST
    assert "Give your evidence" in missing.content.decode()
    assert not ClaimEvidence.objects.exists()

    response = _post(
        client,
        {
            "action": "verify",
            "work": ids,
            "statement": "Harbour Press, contract 44",
            "confirm": "1",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    for work in (waiting, rejected, fresh, verified):
        work.refresh_from_db()
    assert waiting.claim_requested_at == before  # keeps its place in the queue
    assert rejected.claim_pending and fresh.claim_pending and rejected.claim_reason == ""
    assert verified.claim_state == "verified"
    assert ClaimEvidence.objects.filter(statement="Harbour Press, contract 44").count() == 3
    assert AuditEvent.objects.filter(action="claim.request").count() == 3
    assert _messages(response) == [
        "3 works sent to your guild's staff for verification. 1 work already verified left as "
        "they are."
    ]


# --- Bad input: a clear error, nothing changed ---------------------------------------------------


def test_nothing_ticked_is_refused(client, creator):
    work = factories.WorkFactory(owner=creator)
    client.force_login(creator)
    response = _post(client, {"action": "archive", "confirm": "1"}, "kind=book")
    assert response["Location"] == f"{LIST}?kind=book"
    assert _messages(response) == [
        "Tick the works to act on first, or choose all the works matching your filters."
    ]
    work.refresh_from_db()
    assert work.status == "active"


def test_an_unknown_action_is_refused(client, creator):
    work = factories.WorkFactory(owner=creator)
    client.force_login(creator)
    response = _post(client, {"action": "delete", "work": [work.public_id], "confirm": "1"})
    assert _messages(response) == ["There is no such action: choose one from the list."]
    assert Work.objects.filter(pk=work.pk, status="active").exists()


def test_another_creators_work_among_the_ticked_changes_nothing(client, creator, other_creator):
    mine = factories.WorkFactory(owner=creator)
    theirs = factories.WorkFactory(owner=other_creator)
    client.force_login(creator)
    response = _post(
        client,
        {"action": "archive", "work": [mine.public_id, theirs.public_id], "confirm": "1"},
    )
    assert response.status_code == HTTPStatus.FOUND
    assert _messages(response) == [
        "1 work of the 2 ticked is not among yours: nothing was changed."
    ]
    assert Work.objects.filter(status="archived").count() == 0
    assert not AuditEvent.objects.filter(action="work.status").exists()


def test_a_use_that_does_not_exist_is_refused(client, creator):
    work = factories.WorkFactory(owner=creator)
    client.force_login(creator)
    response = _post(
        client,
        {
            "action": "ai_choice",
            "work": [work.public_id],
            "use": "mind-reading",
            "choice": "allow",
            "confirm": "1",
        },
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a valid choice. mind-reading is not one of the available choices." in (
        response.content.decode()
    )
    assert not Preference.objects.exists()


def test_invalid_filters_cannot_select_all_matching(client, creator):
    factories.WorkFactory(owner=creator)
    client.force_login(creator)
    response = _post(
        client, {"action": "archive", "selection": "matching", "confirm": "1"}, "ai_choice=allow"
    )
    assert _messages(response) == ["The filters are not valid: correct them on the list first."]
    assert not Work.objects.filter(status="archived").exists()


# --- Access ----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_and_get_is_not_allowed(client, creator):
    work = factories.WorkFactory(owner=creator)
    response = _post(client, {"action": "archive", "work": [work.public_id], "confirm": "1"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))
    client.force_login(creator)
    assert client.get(BULK).status_code == HTTPStatus.METHOD_NOT_ALLOWED
    assert Work.objects.get(pk=work.pk).status == "active"


def test_staff_cannot_act_on_a_members_works_through_the_list(client, creator, guild_staff):
    work = factories.WorkFactory(owner=creator)
    client.force_login(guild_staff)
    _post(client, {"action": "archive", "work": [work.public_id], "confirm": "1"})
    assert Work.objects.get(pk=work.pk).status == "active"


def test_the_list_offers_the_bulk_form(client, creator):
    factories.WorkFactory(owner=creator, title="Tidewater")
    client.force_login(creator)
    page = client.get(LIST, {"kind": "book"}).content.decode()
    assert f'action="{BULK}?kind=book' in page
    assert "Select “Tidewater”" in page
    assert "All 1 work matching your filters" in page
    for label in (
        "Archive",
        "Set an AI choice",
        "Add to a removal request",
        "Ask your guild to verify",
    ):
        assert f">{label}</option>" in page


# --- Staff: the claims queue ----------------------------------------------------------------------


@pytest.fixture
def claims(creator, other_creator):
    """Two claims of Alice's (Writers' Guild) waiting, one of Bob's (Musicians' Union)."""
    profile_update(actor=creator, profile=creator.creator_profile, display_name="Åsa Ødegård")
    now = timezone.now()
    harbour = factories.WorkFactory(
        owner=creator, title="The Quiet Harbour", claim_requested_at=now
    )
    lights = factories.WorkFactory(owner=creator, title="Harbour Lights", claim_requested_at=now)
    bass = factories.WorkFactory(owner=other_creator, title="Bassline", claim_requested_at=now)
    return harbour, lights, bass


def test_staff_search_their_queue_by_title_or_creator_folded(client, guild_staff, claims):
    client.force_login(guild_staff)
    by_title = client.get(QUEUE, {"q": "quiet HARBOUR"}).content.decode()
    assert "The Quiet Harbour" in by_title and "Harbour Lights" not in by_title
    by_name = client.get(QUEUE, {"q": "odegard"}).content.decode()
    assert "The Quiet Harbour" in by_name and "Harbour Lights" in by_name
    assert "Bassline" not in by_name
    nothing = client.get(QUEUE, {"q": "bassline"}).content.decode()  # not their guild's member
    assert "No claim waiting for you matches “bassline”." in nothing


def test_staff_verify_the_ticked_claims_with_one_reason(
    client, guild_staff, claims, mailoutbox, django_capture_on_commit_callbacks
):
    harbour, lights, _ = claims
    client.force_login(guild_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            QUEUE,
            {"work": [harbour.public_id, lights.public_id], "reason": "Publisher's list checked"},
        )
    assert response.status_code == HTTPStatus.FOUND
    for work in (harbour, lights):
        work.refresh_from_db()
        assert work.claim_state == "verified"
        assert work.claim_reason == "Publisher's list checked"
        assert work.claim_decided_by == guild_staff
    assert _messages(response) == ["2 claims verified. Each creator is told by email."]
    assert len(mailoutbox) == 1  # one email to the creator for both


def test_bulk_verify_refuses_another_guilds_claim_and_changes_nothing(client, guild_staff, claims):
    harbour, _, bass = claims
    client.force_login(guild_staff)
    response = client.post(
        QUEUE, {"work": [harbour.public_id, bass.public_id], "reason": "Checked"}
    )
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "1 of the 2 claims ticked is not waiting for you: nothing was verified." in (
        response.content.decode()
    )
    assert not Work.objects.filter(claim_state="verified").exists()


def test_bulk_verify_needs_a_reason_and_a_tick(client, guild_staff, claims):
    harbour, _, _ = claims
    client.force_login(guild_staff)
    no_reason = client.post(QUEUE, {"work": [harbour.public_id], "reason": " "})
    assert no_reason.status_code == HTTPStatus.BAD_REQUEST
    page = no_reason.content.decode()
    assert "Say how you checked these claims" in page and 'aria-invalid="true"' in page
    box = f'id="pick-{harbour.public_id}" form="queue-form" checked'
    assert box in page  # the tick is kept
    no_tick = client.post(QUEUE, {"reason": "Checked"})
    assert "Tick the claims to verify first." in no_tick.content.decode()
    assert not Work.objects.filter(claim_state="verified").exists()


def test_the_queue_refuses_creators_and_anonymous(client, creator, other_guild_staff, claims):
    harbour, _, bass = claims
    assert client.post(QUEUE, {"work": [harbour.public_id], "reason": "x"}).status_code == (
        HTTPStatus.FOUND
    )  # to sign in
    client.force_login(creator)
    assert client.post(QUEUE, {"work": [bass.public_id], "reason": "x"}).status_code == (
        HTTPStatus.FORBIDDEN
    )
    client.force_login(other_guild_staff)  # the Musicians' Union: not Alice's guild
    response = client.post(QUEUE, {"work": [harbour.public_id], "reason": "x"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Work.objects.filter(claim_state="verified").exists()
