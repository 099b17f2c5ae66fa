"""Who sees a removal request, as a table: every staff-facing page of removals (and their own
pages, and the notice engine's delivery and answer pages) × every kind of person × the states
of their request. Each cell is 200, 403 or 404, and wherever the person may not see the request
nothing of theirs — its name, their works' titles, their name and email, where they saw them
used, their evidence — is on the page.

The rules (docs/removals.md, docs/notices.md): a draft, and a request withdrawn before anyone
reviewed it, is theirs alone; once submitted, the staff of their guild moderate it (superusers only
when it is stranded, which it is not here); the engine's pages show a guild's staff only the
notices of the requests they moderate, and registry managers and superusers every notice.
"""

from http import HTTPStatus

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from notices.models import Notice, Suppression
from removals import services
from removals.models import RemovalRequest
from tests import factories
from tests.storage import bucket_link, followed
from works.models import WorkFile

Status = RemovalRequest.Status

GS, OGS, SU, RM = "guild_staff", "other_guild_staff", "superuser", "registry_manager"
CREATOR, OTHER, DEV = "creator", "other_creator", "developer_person"
PERSONAS = [GS, OGS, SU, RM, CREATOR, OTHER, DEV]
STATES = ["draft", "submitted", "approved", "withdrawn"]  # withdrawn: before any review

TITLE = "Quiet Harbour Takedown"
SECRETS = [
    TITLE,
    "The Lighthouse",
    "Salt and Signal",
    "Alice Author",
    "alice@example.org",
    "dataset.example/books3",
    "line 4512",
]

REMOVAL_STAFF = {GS, OGS, SU}  # the removal queue and reports: guild staff and superusers
ENGINE_READERS = {GS, OGS, SU, RM}  # the engine's delivery pages
ENGINE_ALL = {SU, RM}  # …which show these people every notice


@pytest.fixture
def developer_person(developer):
    return factories.DeveloperMemberFactory(
        developer=developer, user=factories.UserFactory(email="dana@example-ai.example")
    ).user


def _build(state, *, creator, guild_staff, two_works, developer):
    """Their request in ``state``, with an evidence file and a work with a thumbnail; once
    approved, its notice, delivered, and a suppression recorded from its delivery."""
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
    obj = services.draft_create(actor=creator, creator=creator, title=TITLE)
    services.draft_update(
        actor=creator,
        request=obj,
        works=two_works,
        developers=[developer],
        asks=["cease", "datasets"],
        where_used="https://dataset.example/books3",
    )
    services.evidence_add(
        actor=creator,
        request=obj,
        upload=SimpleUploadedFile("listing.txt", b"My novel is line 4512 of the dataset.\n"),
    )
    if state != "draft":
        services.request_submit(actor=creator, request=obj, good_faith=True, accurate=True)
    if state == "withdrawn":
        services.request_withdraw(actor=creator, request=obj, reason="Changed my mind.")
    notice = None
    if state == "approved":
        services.request_approve(actor=guild_staff, request=obj)
        notice = Notice.objects.get(topic=obj.topic, kind=Notice.Kind.NOTICE)
        Suppression.objects.create(
            address="old@example-ai.example", reason="550", delivery=notice.deliveries.first()
        )
    obj.refresh_from_db()
    return obj, notice


def _cells(obj, notice, work, evidence, state):
    """``(label, method, url, who gets 200, who sees their request there, status otherwise)``."""
    moderators = {GS} if state in ("submitted", "approved") else set()
    sent = state == "approved"

    def staff(name, *args):
        return reverse(f"removals-staff:{name}", args=args)

    queue = staff("queue")
    cells = [
        # Their request in the moderation queue's tabs, and the staff's reports.
        ("queue", "get", queue, REMOVAL_STAFF, moderators if state == "submitted" else (), 403),
        (
            "decided tab",
            "get",
            queue + "?show=decided",
            REMOVAL_STAFF,
            moderators if sent else (),
            403,
        ),
        ("sent back tab", "get", queue + "?show=sent-back", REMOVAL_STAFF, (), 403),
        ("overdue", "get", staff("overdue"), REMOVAL_STAFF, (), 403),
        ("stats", "get", staff("stats"), REMOVAL_STAFF, (), 403),
        ("stats csv", "get", staff("stats-csv"), REMOVAL_STAFF, (), 403),
        ("letter wording", "get", staff("letter"), REMOVAL_STAFF, (), 403),
        # The request itself, for its moderators.
        ("review", "get", staff("review", obj.pk), moderators, moderators, 404),
        ("evidence", "get", staff("evidence", obj.pk, evidence.pk), moderators, moderators, 404),
        (
            "thumbnail",
            "get",
            staff("thumbnail", obj.pk, work.public_id),
            moderators,
            (),
            404,
        ),
        # Their own pages.
        ("their page", "get", reverse("removals:detail", args=[obj.pk]), {CREATOR}, {CREATOR}, 404),
        (
            "their evidence",
            "get",
            reverse("removals:evidence", args=[obj.pk, evidence.pk]),
            {CREATOR},
            {CREATOR},
            404,
        ),
        (
            "evidence pack",
            "get",
            reverse("removals:evidence-pack", args=[obj.pk]),
            {CREATOR},
            (),
            404,
        ),
        # The notice engine's pages.
        (
            "deliveries",
            "get",
            reverse("notices:delivery-list"),
            ENGINE_READERS,
            (moderators | ENGINE_ALL) if sent else (),
            403,
        ),
        (
            "deliveries of removals",
            "get",
            reverse("notices:delivery-list") + "?topic=removal",
            ENGINE_READERS,
            (moderators | ENGINE_ALL) if sent else (),
            403,
        ),
        ("delivery stats", "get", reverse("notices:delivery-stats"), ENGINE_READERS, (), 403),
        (
            "suppressions",
            "get",
            reverse("notices:suppression-list"),
            ENGINE_READERS,
            (moderators | ENGINE_ALL) if sent else (),
            403,
        ),
    ]
    # Steps of moderation, posted by anyone who does not moderate it: nothing happens.
    for name in ("start", "approve", "reject", "ask-info", "close"):
        cells.append((name, "post", staff(name, obj.pk), moderators, (), 404))
    if notice is not None:
        delivery = notice.deliveries.first()
        readers = moderators | ENGINE_ALL
        cells += [
            (
                "delivery",
                "get",
                reverse("notices:delivery-detail", args=[delivery.pk]),
                readers,
                readers,
                # Another guild's staff read the engine's pages, but not this notice.
                {OGS: 404},
            ),
            (
                "staff notice page",
                "get",
                reverse("answers:staff-notice", args=[notice.pk]),
                readers,
                readers,
                {OGS: 404},
            ),
            (
                "notice file",
                "get",
                reverse("answers:notice-file", args=[notice.pk, notice.attachments.first().pk]),
                readers | {DEV},  # its own organisation's people read it too
                readers | {DEV},  # the works' manifest
                404,
            ),
        ]
    return cells


def _refused(otherwise, persona):
    if isinstance(otherwise, dict):
        return otherwise.get(persona, HTTPStatus.FORBIDDEN)
    return otherwise


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("persona", PERSONAS)
def test_access_table(
    request, client, persona, state, creator, guild_staff, two_works, developer, developer_person
):
    request.getfixturevalue(OGS), request.getfixturevalue(OTHER)  # every persona exists
    obj, notice = _build(
        state, creator=creator, guild_staff=guild_staff, two_works=two_works, developer=developer
    )
    status_before = obj.status
    user = request.getfixturevalue(persona)
    client.force_login(user)
    evidence = obj.evidence.get()

    failures = []
    for label, method, url, allowed, sees, otherwise in _cells(
        obj, notice, two_works[0], evidence, state
    ):
        if method == "post" and persona in allowed:
            continue  # the decisions themselves are tested in test_review.py
        response = getattr(client, method)(url)
        if bucket_link(response):  # a file in the bucket: what the signed link gives
            response = followed(response)
            status, body = response.status, response.body.decode("utf-8", "replace")
        else:
            status, body = response.status_code, _body(response)
        expected = HTTPStatus.OK if persona in allowed else _refused(otherwise, persona)
        if status != expected:
            failures.append(f"{label}: {status}, expected {expected}")
        elif persona in sees and status == HTTPStatus.OK:
            if not any(secret in body for secret in SECRETS):
                failures.append(f"{label}: their request is missing")
        elif persona != CREATOR:
            leaked = [secret for secret in SECRETS if secret in body]
            if leaked:
                failures.append(f"{label}: shows {leaked}")

    assert not failures, f"{persona} × {state}:\n" + "\n".join(failures)
    obj.refresh_from_db()
    assert obj.status == status_before  # nobody's refused step changed anything


# --- Withdrawn requests, and their other requests on the review page -----------------------------


def _submitted(creator, two_works, developer, title):
    obj = services.draft_create(actor=creator, creator=creator, title=title)
    services.draft_update(
        actor=creator, request=obj, works=two_works, developers=[developer], asks=["cease"]
    )
    services.request_submit(actor=creator, request=obj, good_faith=True, accurate=True)
    return obj


def test_a_request_withdrawn_after_staff_took_it_up_stays_with_them(
    client, creator, guild_staff, two_works, developer
):
    reviewed = _submitted(creator, two_works, developer, "Reviewed then withdrawn")
    services.review_start(actor=guild_staff, request=reviewed)
    asked = _submitted(creator, two_works, developer, "Asked then withdrawn")
    services.info_request(actor=guild_staff, request=asked, question="Which edition?")
    for obj in (reviewed, asked):
        services.request_withdraw(actor=creator, request=obj)
    client.force_login(guild_staff)

    for obj in (reviewed, asked):
        response = client.get(reverse("removals-staff:review", args=[obj.pk]))
        assert response.status_code == HTTPStatus.OK
        assert obj.title in response.content.decode()


def test_the_review_page_lists_none_of_their_requests_that_never_reached_staff(
    client, creator, guild_staff, two_works, developer
):
    services.draft_create(actor=creator, creator=creator, title="Still a draft")
    unreviewed = _submitted(creator, two_works, developer, "Withdrawn unread")
    services.request_withdraw(actor=creator, request=unreviewed)
    decided = _submitted(creator, two_works, developer, "Rejected before")
    services.request_reject(actor=guild_staff, request=decided, reason="Not theirs.")
    current = _submitted(creator, two_works, developer, "The one under review")
    client.force_login(guild_staff)

    page = client.get(reverse("removals-staff:review", args=[current.pk])).content.decode()

    assert "Rejected before" in page
    assert "Still a draft" not in page and "Withdrawn unread" not in page
