"""The review page of a removal request and its decisions, through the pages: who may see it,
what it shows (claims, fingerprints, conflicts, their memberships and history, evidence, licence
grants, the letter), and approve / reject / ask for more information / close — each refused
with a clear message and nothing changed when it cannot apply."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from consent import services as consent_services
from notices.models import Notice
from removals import services
from removals.models import RemovalRequest
from tests import factories
from tests.e2e import conftest as e2e
from tests.storage import download
from works.models import Conflict, Work, WorkFile

Status = RemovalRequest.Status

# The browser test's fixtures (one Chromium per module, a phone-sized page, axe-core, sign-in).
browser, page, audit = e2e.browser, e2e.page, e2e.audit
browser_sign_in = e2e.browser_sign_in

ACTIONS = ["start", "approve", "reject", "ask-info", "close"]


def _url(name, request, *args):
    return reverse(f"removals-staff:{name}", args=[request.pk, *args])


@pytest.fixture
def developer_person(developer):
    return factories.DeveloperMemberFactory(
        developer=developer, user=factories.UserFactory(email="dana@example-ai.example")
    ).user


@pytest.fixture
def staff_client(client, guild_staff):
    client.force_login(guild_staff)
    return client


def _blocking_conflict(work, other_creator):
    earlier = factories.WorkFactory(owner=other_creator, title="Their Lighthouse")
    Work.objects.filter(pk=earlier.pk).update(
        claim_state=Work.Claim.VERIFIED,
        claim_decided_at=timezone.now(),
        created_at=timezone.now() - timedelta(days=400),
    )
    return Conflict.objects.create(
        work_a=earlier, work_b=work, matches=[{"kind": "isbn", "value": "9780306406157"}]
    )


# --- Access ------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, make_request):
    request = make_request()
    response = client.get(_url("review", request))
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]
    for action in ACTIONS:
        response = client.post(_url(action, request), {"reason": "x", "question": "x"})
        assert response.status_code == HTTPStatus.FOUND
        assert reverse("account_login") in response["Location"]
    request.refresh_from_db()
    assert request.status == Status.SUBMITTED


@pytest.mark.parametrize(
    "persona", ["creator", "other_creator", "other_guild_staff", "superuser", "charlie"]
)
def test_people_outside_their_guilds_get_404_and_change_nothing(
    client, make_request, persona, request, guild_staff
):
    obj = make_request()  # their guild has staff to decide it: superusers do not step in
    client.force_login(request.getfixturevalue(persona))

    assert client.get(_url("review", obj)).status_code == HTTPStatus.NOT_FOUND
    for action in ACTIONS:
        response = client.post(_url(action, obj), {"reason": "No.", "question": "Why?"})
        assert response.status_code == HTTPStatus.NOT_FOUND
    obj.refresh_from_db()
    assert obj.status == Status.SUBMITTED
    assert not Notice.objects.filter(topic=obj.topic).exists()


def test_a_developers_person_gets_404(client, make_request, developer_person):
    obj = make_request()
    client.force_login(developer_person)
    assert client.get(_url("review", obj)).status_code == HTTPStatus.NOT_FOUND
    response = client.post(_url("approve", obj), {})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not Notice.objects.filter(topic=obj.topic).exists()


def test_staff_never_review_their_own_request(client, guild_staff, wggb, developer):
    factories.MembershipFactory(user=guild_staff, guild=wggb, verified=True)
    work = factories.WorkFactory(owner=guild_staff)
    own = services.draft_create(actor=guild_staff, creator=guild_staff)
    services.draft_update(
        actor=guild_staff, request=own, works=[work], developers=[developer], asks=["cease"]
    )
    services.request_submit(actor=guild_staff, request=own, good_faith=True, accurate=True)
    client.force_login(guild_staff)
    assert client.get(_url("review", own)).status_code == HTTPStatus.NOT_FOUND
    assert client.post(_url("approve", own), {}).status_code == HTTPStatus.NOT_FOUND


def test_actions_refuse_get(staff_client, make_request):
    obj = make_request()
    for action in ACTIONS:
        assert staff_client.get(_url(action, obj)).status_code == HTTPStatus.METHOD_NOT_ALLOWED


# --- What the page shows -----------------------------------------------------------------------


def test_review_page_shows_works_claims_fingerprints_member_and_letter(
    staff_client, make_request, two_works, creator, wggb, mu
):
    WorkFile.objects.create(
        work=two_works[0],
        status=WorkFile.Status.READY,
        original_name="lighthouse.jpg",
        size=1234,
        sha256="ab" * 32,
        family="image",
        format="jpeg",
        mime="image/jpeg",
        phash=0x0123456789ABCDEF,
    )
    factories.MembershipFactory(user=creator, guild=mu)  # claimed, not verified
    earlier = make_request()
    services.request_reject(
        actor=factories.StaffAppointmentFactory(guild=wggb).user,
        request=earlier,
        reason="The works were not theirs.",
    )
    obj = make_request()

    response = staff_client.get(_url("review", obj))

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "The Lighthouse" in page and "Salt and Signal" in page
    assert "Self-declared" in page
    assert "ab" * 32 in page and "0123456789abcdef" in page
    assert "verifies the creator's self-declared claims" in page
    # Their memberships with their states, and their earlier request with its outcome.
    assert "Musicians&#x27; Union" in page and "Awaiting verification" in page
    assert f"#{earlier.pk}" in page and "The works were not theirs." in page
    # The letter Example AI Ltd would get: in their name (no mandate given), verified by the guild.
    assert "Dear Example AI Ltd," in page
    assert "Alice Author writes to you" in page
    assert "has checked that Alice Author is its member and verified their claims" in page
    assert "Remove them from training datasets" in page
    # The decisions on offer.
    for action in ("start", "approve", "reject", "ask-info"):
        assert _url(action, obj) in page
    assert _url("close", obj) not in page


def test_letter_preview_for_another_developer(staff_client, make_request, other_developer):
    obj = make_request()
    response = staff_client.get(_url("review", obj), {"letter": other_developer.pk})
    assert "Dear Other Models Inc," in response.content.decode()


def test_html_in_their_text_is_escaped(staff_client, creator, developer):
    work = factories.WorkFactory(owner=creator, title="<script>alert(1)</script>")
    obj = services.draft_create(actor=creator, creator=creator, title="<b>mine</b>")
    services.draft_update(
        actor=creator,
        request=obj,
        works=[work],
        developers=[developer],
        asks=["cease"],
        where_used="<img src=x onerror=alert(1)>",
    )
    services.request_submit(actor=creator, request=obj, good_faith=True, accurate=True)
    page = staff_client.get(_url("review", obj)).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;" in page


def test_review_page_query_count_does_not_grow_with_works(
    staff_client, creator, developer, django_assert_max_num_queries
):
    def _request(n):
        works = [factories.WorkFactory(owner=creator, title=f"Work {i}") for i in range(n)]
        obj = services.draft_create(actor=creator, creator=creator)
        services.draft_update(
            actor=creator, request=obj, works=works, developers=[developer], asks=["cease"]
        )
        services.request_submit(actor=creator, request=obj, good_faith=True, accurate=True)
        return obj

    small, large = _request(2), _request(80)
    with django_assert_max_num_queries(40) as small_queries:
        assert staff_client.get(_url("review", small)).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(len(small_queries.captured_queries)):
        assert staff_client.get(_url("review", large)).status_code == HTTPStatus.OK


# --- Decisions ----------------------------------------------------------------------------------


def test_start_review_shows_who_reviews_it(client, make_request, guild_staff, wggb):
    obj = make_request()
    client.force_login(guild_staff)
    response = client.post(_url("start", obj), follow=True)
    assert "You are reviewing" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == Status.IN_REVIEW and obj.reviewer == guild_staff

    colleague = factories.StaffAppointmentFactory(guild=wggb).user
    client.force_login(colleague)
    page = client.get(_url("review", obj)).content.decode()
    assert "staff@wggb.example is reviewing it" in page
    # Taking it twice is refused with a clear message.
    response = client.post(_url("start", obj))
    assert "cannot be taken for review" in response.content.decode()


def test_approve_sends_one_notice_per_developer_and_shows_them(
    staff_client, make_request, developer, other_developer, two_works
):
    obj = make_request()

    response = staff_client.post(_url("approve", obj), {"note": "Claims checked."}, follow=True)

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert "Approved: 2 notices will go out" in page
    notices = Notice.objects.filter(topic=obj.topic, kind=Notice.Kind.NOTICE)
    assert {n.developer for n in notices} == {developer, other_developer}
    obj.refresh_from_db()
    assert obj.status == Status.APPROVED and obj.decision_reason == "Claims checked."
    assert set(
        Work.objects.filter(pk__in=[w.pk for w in two_works]).values_list("claim_state", flat=True)
    ) == {Work.Claim.VERIFIED}
    assert "Notices sent" in page and "Other Models Inc" in page
    assert "No answer yet" in page
    assert "Decided by" in page and "The first decision stands" in page


def test_approving_twice_gives_a_clear_message_and_sends_nothing_more(
    staff_client, make_request, django_capture_on_commit_callbacks
):
    obj = make_request()
    staff_client.post(_url("approve", obj), {})

    response = staff_client.post(_url("approve", obj), {})

    assert response.status_code == HTTPStatus.OK
    assert "cannot be approved" in response.content.decode()
    assert Notice.objects.filter(topic=obj.topic, kind=Notice.Kind.NOTICE).count() == 2


def test_another_guilds_decision_stands_and_is_shown(
    client, make_request, creator, mu, guild_staff, other_guild_staff
):
    factories.MembershipFactory(user=creator, guild=mu, verified=True)
    obj = make_request()
    client.force_login(other_guild_staff)
    client.post(_url("reject", obj), {"reason": "Not their work."})

    client.force_login(guild_staff)
    page = client.get(_url("review", obj)).content.decode()
    assert "staff@mu.example" in page and "Not their work." in page
    response = client.post(_url("approve", obj), {})
    assert "cannot be approved" in response.content.decode()
    assert not Notice.objects.filter(topic=obj.topic).exists()


def test_reject_needs_a_reason(staff_client, make_request):
    obj = make_request()

    response = staff_client.post(_url("reject", obj), {"reason": "   "})

    assert response.status_code == HTTPStatus.OK
    assert "Say why: the creator will read it." in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == Status.SUBMITTED

    staff_client.post(_url("reject", obj), {"reason": "The ISBN is someone else's."})
    obj.refresh_from_db()
    assert obj.status == Status.REJECTED
    assert obj.decision_reason == "The ISBN is someone else's."


def test_ask_for_information_then_it_returns_to_the_queue_when_the_creator_answers(
    staff_client, make_request, creator
):
    obj = make_request()
    queue = reverse("removals-staff:queue")

    response = staff_client.post(_url("ask-info", obj), {"question": ""})
    assert "Ask your question" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == Status.SUBMITTED

    staff_client.post(_url("ask-info", obj), {"question": "Which edition was used?"})
    obj.refresh_from_db()
    assert obj.status == Status.NEEDS_INFO
    assert _url("review", obj) not in staff_client.get(queue).content.decode()
    sent_back = staff_client.get(queue, {"show": "sent-back"}).content.decode()
    assert _url("review", obj) in sent_back

    services.request_submit(
        actor=creator, request=obj, good_faith=True, accurate=True, answer="The 2019 edition."
    )
    assert _url("review", obj) in staff_client.get(queue).content.decode()
    page = staff_client.get(_url("review", obj)).content.decode()
    assert "The 2019 edition." in page and "Which edition was used?" in page


def test_a_licence_grant_must_be_acknowledged_before_approval(
    staff_client, make_request, creator, developer
):
    consent_services.grant_create(
        actor=creator,
        owner=creator,
        developer=developer,
        uses=["train-genai"],
        licence_ref="LIC-7",
        starts_on=timezone.localdate(),
    )
    obj = make_request()

    page = staff_client.get(_url("review", obj)).content.decode()
    assert "The creator gave a licence to one of these developers" in page and "LIC-7" in page
    assert "I have seen the licence(s)" in page

    response = staff_client.post(_url("approve", obj), {})
    assert "Tick this box once you have read the licences" in response.content.decode()
    assert not Notice.objects.filter(topic=obj.topic).exists()

    staff_client.post(_url("approve", obj), {"grants_seen": "on"})
    assert Notice.objects.filter(topic=obj.topic, kind=Notice.Kind.NOTICE).count() == 2


def test_a_blocking_conflict_is_shown_and_approval_refused(
    staff_client, make_request, two_works, other_creator
):
    _blocking_conflict(two_works[0], other_creator)
    obj = make_request()

    page = staff_client.get(_url("review", obj)).content.decode()
    assert "This request cannot be approved yet" in page
    assert "held by a conflict" in page
    assert "Blocked" in page and "Blocks approval" in page

    response = staff_client.post(_url("approve", obj), {})
    assert "held by a conflict" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == Status.SUBMITTED
    assert not Notice.objects.filter(topic=obj.topic).exists()


def test_close_an_approved_request_with_a_reason(staff_client, make_request):
    obj = make_request()
    staff_client.post(_url("approve", obj), {})

    response = staff_client.post(_url("close", obj), {"reason": ""})
    assert "Say why the request is closed." in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == Status.APPROVED

    response = staff_client.post(_url("close", obj), {"reason": "Settled by letter."}, follow=True)
    assert "The request is closed" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == Status.CLOSED
    assert obj.events.get(action="closed").note == "Settled by letter."


def test_a_submitted_request_cannot_be_closed(staff_client, make_request):
    obj = make_request()
    response = staff_client.post(_url("close", obj), {"reason": "Nothing to do."})
    assert "cannot be closed" in response.content.decode()
    obj.refresh_from_db()
    assert obj.status == Status.SUBMITTED


# --- Files ----------------------------------------------------------------------------------------


@pytest.fixture
def with_evidence(make_request, creator):
    obj = make_request(submit=False)
    services.evidence_add(
        actor=creator,
        request=obj,
        upload=SimpleUploadedFile("listing.txt", b"My novel is line 4512 of the dataset.\n"),
        note="The dataset's file list",
    )
    services.request_submit(actor=creator, request=obj, good_faith=True, accurate=True)
    return obj, obj.evidence.get()


def test_moderators_download_evidence_as_an_attachment(staff_client, with_evidence):
    obj, item = with_evidence
    assert _url("evidence", obj, item.pk) in staff_client.get(_url("review", obj)).content.decode()

    got = download(staff_client, _url("evidence", obj, item.pk))

    assert got.status == HTTPStatus.OK
    assert got.disposition.startswith("attachment")
    assert got.body == b"My novel is line 4512 of the dataset.\n"


@pytest.mark.parametrize(
    "persona", ["creator", "other_guild_staff", "superuser", "charlie", "developer_person"]
)
def test_others_get_404_for_evidence(client, with_evidence, persona, request, guild_staff):
    obj, item = with_evidence  # their guild has staff to decide it: superusers do not step in
    client.force_login(request.getfixturevalue(persona))
    assert client.get(_url("evidence", obj, item.pk)).status_code == HTTPStatus.NOT_FOUND


def test_anonymous_visitors_are_sent_to_sign_in_for_files(client, with_evidence, two_works):
    obj, item = with_evidence
    for url in (_url("evidence", obj, item.pk), _url("thumbnail", obj, two_works[0].public_id)):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert reverse("account_login") in response["Location"]


def test_evidence_of_another_request_is_404(staff_client, with_evidence, make_request):
    _, item = with_evidence
    other = make_request()
    assert staff_client.get(_url("evidence", other, item.pk)).status_code == HTTPStatus.NOT_FOUND


def test_thumbnails_for_moderators_only(client, make_request, two_works, guild_staff, charlie):
    work_file = WorkFile.objects.create(
        work=two_works[0],
        status=WorkFile.Status.READY,
        original_name="a.jpg",
        size=10,
        family="image",
        format="jpeg",
        mime="image/jpeg",
    )
    work_file.thumbnail.save("thumb.jpg", ContentFile(b"\xff\xd8\xff\xe0 thumbnail"))
    obj = make_request()
    url = _url("thumbnail", obj, two_works[0].public_id)

    client.force_login(guild_staff)
    assert url in client.get(_url("review", obj)).content.decode()
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    # A work not named in the request: 404.
    stranger = factories.WorkFactory(owner=two_works[0].owner)
    assert client.get(_url("thumbnail", obj, stranger.public_id)).status_code == 404

    client.force_login(charlie)
    assert client.get(url).status_code == HTTPStatus.NOT_FOUND


# --- In a browser ---------------------------------------------------------------------------------


@pytest.mark.browser
def test_staff_review_and_approve_in_a_browser_on_a_phone(
    live_server, page, audit, browser_sign_in, guild_staff, make_request, two_works, other_creator
):
    import re

    obj = make_request()
    blocked = make_request(works=[factories.WorkFactory(owner=two_works[0].owner, title="Held")])
    _blocking_conflict(blocked.works.get(), other_creator)

    browser_sign_in(page, guild_staff)
    page.goto(live_server.url + reverse("removals-staff:queue"))
    audit(page)
    page.get_by_role("link", name=re.compile(f"My novels #{obj.pk}")).click()
    page.wait_for_url(re.compile(f"/review/{obj.pk}/$"))
    audit(page)
    page.get_by_label("Note for the record (optional)").fill("Checked the ISBNs.")
    page.get_by_role("button", name="Approve and send the notices").click()
    page.wait_for_url(re.compile(f"/review/{obj.pk}/$"))
    assert page.get_by_text("Approved: 2 notices will go out").is_visible()
    assert page.get_by_role("heading", name="Notices sent").is_visible()
    audit(page)

    page.goto(live_server.url + reverse("removals-staff:review", args=[blocked.pk]))
    assert page.get_by_role("heading", name="This request cannot be approved yet").is_visible()
    audit(page)
    page.get_by_text("Reject the request", exact=True).click()
    page.get_by_role("button", name="Reject").click()
    assert page.get_by_text("Say why: the creator will read it.").first.is_visible()
    audit(page)

    for name in ("overdue", "stats", "letter"):
        page.goto(live_server.url + reverse(f"removals-staff:{name}"))
        audit(page)
    assert not page.console_errors


def test_after_their_retraction_staff_see_the_retraction_notices(
    staff_client, make_request, creator
):
    obj = make_request()
    staff_client.post(_url("approve", obj), {})
    services.request_retract(actor=creator, request=obj, reason="Settled privately.")

    page = staff_client.get(_url("review", obj)).content.decode()

    assert "Retracted" in page and "Settled privately." in page
    assert page.count("Retraction</span>") == 2
    assert _url("close", obj) not in page
