"""The creator's removal-request pages through the test client (no JavaScript): filing a request
from a new draft to its submission, their list, the steps they may take from their request page,
staff filing under a member's mandate, HTML escaped everywhere, and who may see what."""

import io
from http import HTTPStatus

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from accounts.models import Mandate
from consent.decisions import decide
from notices.models import Notice
from removals import services
from removals.models import RemovalEvidence, RemovalRequest
from tests import factories
from tests.storage import download, stored_names

Status = RemovalRequest.Status


def png_bytes(colour="red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (12, 8), colour).save(buffer, "PNG")
    return buffer.getvalue()


def form_data(removal: RemovalRequest, **changes) -> dict:
    """What the edit page's form posts as it stands (a browser posts every field with every
    button), with ``changes``."""
    removal.refresh_from_db()
    data = {
        "title": removal.title,
        "developers": [str(pk) for pk in removal.developers.values_list("pk", flat=True)],
        "asks": list(removal.asks),
        "where_used": removal.where_used,
        "notify_steps": list(removal.notify_steps),
        "evidence_note": "",
        "q": "",
    }
    if removal.all_developers:
        data["all_developers"] = "on"
    data.update(changes)
    return data


def stored_files(settings) -> list[str]:
    return stored_names("removals")


@pytest.fixture
def creator_client(client, creator):
    client.force_login(creator)
    return client


@pytest.fixture
def developer_person(developer):
    return factories.DeveloperMemberFactory(
        developer=developer, user__email="dana@example-ai.example"
    ).user


# --- Filing, end to end ---------------------------------------------------------------------


def test_a_creator_files_a_request_from_a_new_draft_to_its_submission(
    creator_client, creator, two_works, developer, other_developer, settings
):
    lighthouse, salt = two_works
    factories.WorkFactory(owner=creator, title="Unrelated Poems")

    response = creator_client.post(reverse("removals:create"))
    removal = RemovalRequest.objects.get(creator=creator)
    edit = reverse("removals:edit", args=[removal.pk])
    assert response.status_code == HTTPStatus.FOUND and response.url == edit
    assert removal.status == Status.DRAFT

    # Search, tick one work and add it.
    response = creator_client.post(edit, form_data(removal, q="Lighthouse", action="search"))
    assert response.url == f"{edit}?q=Lighthouse#works-search"
    page = creator_client.get(edit, {"q": "Lighthouse"}).content.decode()
    assert "The Lighthouse" in page and "Unrelated Poems" not in page
    creator_client.post(edit, form_data(removal, work=[lighthouse.public_id], action="add"))
    # "Select all matching" adds every work matching the search, and only those.
    response = creator_client.post(edit, form_data(removal, q="Salt", action="add_matching"))
    assert set(removal.works.all()) == {lighthouse, salt}
    follow = creator_client.get(response.url)
    assert "All 1 work matching “Salt” are in the request (2 in all)." in follow.content.decode()

    # Developers, asks, where used and the title, saved together.
    creator_client.post(
        edit,
        form_data(
            removal,
            title="My novels",
            developers=[str(developer.pk), str(other_developer.pk)],
            asks=["cease", "datasets", "models"],
            where_used="https://dataset.example/books3",
            action="save",
        ),
    )
    removal.refresh_from_db()
    assert removal.title == "My novels"
    assert set(removal.developers.all()) == {developer, other_developer}
    assert removal.asks == ["cease", "datasets", "models"]

    # A real PNG is attached; an HTML page named .png is refused and nothing is stored.
    shot = SimpleUploadedFile("dataset listing.png", png_bytes(), content_type="image/png")
    creator_client.post(
        edit, form_data(removal, evidence=shot, evidence_note="Books3 index", action="upload")
    )
    evidence = removal.evidence.get()
    assert evidence.content_type == "image/png" and evidence.note == "Books3 index"
    assert len(stored_files(settings)) == 1
    fake = SimpleUploadedFile(
        "innocent.png", b"<html><script>alert(1)</script></html>", content_type="image/png"
    )
    response = creator_client.post(edit, form_data(removal, evidence=fake, action="upload"))
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "This file is a web page (HTML), whatever its name says." in response.content.decode()
    assert 'aria-invalid="true"' in response.content.decode()
    assert RemovalEvidence.objects.count() == 1 and len(stored_files(settings)) == 1

    # Review: what will be sent; the statements are required.
    response = creator_client.post(edit, form_data(removal, action="review"))
    submit = reverse("removals:submit", args=[removal.pk])
    assert response.url == submit
    review = creator_client.get(submit).content.decode()
    for text in ("The Lighthouse", "Salt and Signal", "Example AI Ltd", "Other Models Inc"):
        assert text in review
    assert "Remove them from trained models and models derived from them" in review
    assert "https://dataset.example/books3" in review
    assert "states in good faith" in review

    response = creator_client.post(submit, {})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Confirm the good-faith statement" in response.content.decode()
    removal.refresh_from_db()
    assert removal.status == Status.DRAFT

    response = creator_client.post(submit, {"good_faith": "on", "accurate": "on"})
    assert response.url == removal.get_absolute_url()
    removal.refresh_from_db()
    assert removal.status == Status.SUBMITTED and removal.good_faith and removal.accurate
    detail = creator_client.get(response.url).content.decode()
    assert "Your request is submitted" in detail
    # Their guild has no staff here: the portal's administrators review it, and the page says so.
    assert "Waiting for the portal&#x27;s administrators" in detail
    # Once submitted, the draft pages send them back to their request.
    assert creator_client.get(edit).url == removal.get_absolute_url()


def test_submitting_an_incomplete_draft_says_what_is_missing(creator_client, creator):
    removal = services.draft_create(actor=creator, creator=creator)

    response = creator_client.post(
        reverse("removals:submit", args=[removal.pk]), {"good_faith": "on", "accurate": "on"}
    )

    page = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Choose at least one of your works." in page
    assert "Choose at least one AI developer, or all of them." in page
    removal.refresh_from_db()
    assert removal.status == Status.DRAFT


def test_a_too_large_evidence_file_is_refused_and_nothing_is_stored(
    creator_client, make_request, settings
):
    import os

    settings.REMOVALS_EVIDENCE_MAX_BYTES = 2048
    removal = make_request(submit=False)
    noise = Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    assert len(buffer.getvalue()) > 2048

    response = creator_client.post(
        reverse("removals:edit", args=[removal.pk]),
        form_data(
            removal,
            where_used="Typed before pressing the button",
            evidence=SimpleUploadedFile("big.png", buffer.getvalue(), content_type="image/png"),
            action="upload",
        ),
    )

    page = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "too large" in page and "2.0\xa0KB" in page
    assert "Typed before pressing the button" in page  # what they typed is still in the form
    assert not RemovalEvidence.objects.exists() and stored_files(settings) == []
    removal.refresh_from_db()
    assert removal.where_used == "https://dataset.example/books3"  # nothing changed


def test_removing_works_and_evidence_and_choosing_all_developers(
    creator_client, make_request, two_works, settings
):
    removal = make_request(submit=False)
    services.evidence_add(
        actor=removal.creator,
        request=removal,
        upload=SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
    )
    edit = reverse("removals:edit", args=[removal.pk])

    creator_client.post(edit, form_data(removal, remove_work=two_works[0].public_id))
    assert list(removal.works.all()) == [two_works[1]]
    evidence = removal.evidence.get()
    creator_client.post(edit, form_data(removal, remove_evidence=str(evidence.pk)))
    assert not removal.evidence.exists()
    creator_client.post(edit, form_data(removal, all_developers="on", action="save"))
    removal.refresh_from_db()
    assert removal.all_developers
    response = creator_client.post(edit, form_data(removal, action="remove_all"))
    assert not removal.works.exists()
    assert "Every work is removed" in creator_client.get(response.url).content.decode()


def test_a_foreign_work_cannot_be_added_by_its_identifier(
    creator_client, make_request, other_creator
):
    removal = make_request(submit=False)
    theirs = factories.WorkFactory(owner=other_creator, title="Not theirs")

    response = creator_client.post(
        reverse("removals:edit", args=[removal.pk]),
        form_data(removal, work=[theirs.public_id], action="add"),
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Tick the works to add first." in response.content.decode()
    assert theirs not in removal.works.all()


def test_answering_the_staffs_question_sends_the_request_back(
    creator_client, make_request, guild_staff
):
    removal = make_request()
    services.info_request(actor=guild_staff, request=removal, question="Which <em>edition</em>?")
    submit = reverse("removals:submit", args=[removal.pk])

    edit_page = creator_client.get(reverse("removals:edit", args=[removal.pk])).content.decode()
    assert "Which &lt;em&gt;edition&lt;/em&gt;?" in edit_page
    response = creator_client.post(submit, {"good_faith": "on", "accurate": "on"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Answer the staff&#x27;s question" in response.content.decode()
    removal.refresh_from_db()
    assert removal.status == Status.NEEDS_INFO

    creator_client.post(
        submit, {"good_faith": "on", "accurate": "on", "answer": "The 2019 paperback."}
    )
    removal.refresh_from_db()
    assert removal.status == Status.SUBMITTED
    assert removal.events.get(action="info_given").note == "The 2019 paperback."


# --- Their list ----------------------------------------------------------------------------------


def test_their_list_shows_status_works_developers_and_answers(
    creator_client, make_request, guild_staff, developer
):
    draft = make_request(submit=False)
    approved = make_request()
    approved.title = ""
    approved.save()
    notices = services.request_approve(actor=guild_staff, request=approved)
    from notices.services import answer_record

    answer_record(notice=notices[0], kind="acknowledged", via="link")

    page = creator_client.get(reverse("removals:list")).content.decode()

    assert f"Removal request {approved.pk}" in page and draft.title in page
    assert "Approved — notices sent" in page and "Draft" in page
    assert "1 of 2 answered" in page
    assert "Example AI Ltd, Other Models Inc" in page
    # Newest first.
    assert page.index(f"Removal request {approved.pk}") < page.index(draft.title)


def test_their_list_takes_the_same_queries_at_10_and_300_requests(
    creator_client, creator, developer, two_works
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    through = RemovalRequest.works.through
    chosen = RemovalRequest.developers.through
    counts = []
    for count in (10, 290):
        rows = RemovalRequest.objects.bulk_create(
            RemovalRequest(creator=creator, filed_by=creator, title=f"Request {n}")
            for n in range(count)
        )
        through.objects.bulk_create(
            through(removalrequest_id=r.pk, work_id=w.pk) for r in rows for w in two_works
        )
        chosen.objects.bulk_create(
            chosen(removalrequest_id=r.pk, aideveloper_id=developer.pk) for r in rows
        )
        with CaptureQueriesContext(connection) as queries:
            response = creator_client.get(reverse("removals:list"), {"page": 1})
        assert "Example AI Ltd" in response.content.decode()
        counts.append(len(queries))

    assert counts[0] == counts[1] <= 10  # 10 requests, then 300


# --- Steps from their request page ---------------------------------------------------------------


def test_withdraw_is_offered_only_before_a_decision(creator_client, make_request, guild_staff):
    removal = make_request()
    detail = reverse("removals:detail", args=[removal.pk])
    withdraw = reverse("removals:withdraw", args=[removal.pk])
    retract = reverse("removals:retract", args=[removal.pk])

    page = creator_client.get(detail).content.decode()
    assert withdraw in page and retract not in page
    # Retracting before approval is refused with a clear message; nothing changes.
    response = creator_client.post(retract, {"confirm": "on"}, follow=True)
    assert "cannot be retracted" in response.content.decode()
    removal.refresh_from_db()
    assert removal.status == Status.SUBMITTED

    confirm = creator_client.get(withdraw).content.decode()
    assert "Yes, withdraw the request" in confirm
    response = creator_client.post(withdraw, {"reason": "Settled privately."}, follow=True)
    assert "The request is withdrawn" in response.content.decode()
    removal.refresh_from_db()
    assert removal.status == Status.WITHDRAWN
    page = creator_client.get(detail).content.decode()
    assert withdraw not in page and retract not in page


def test_retract_is_offered_only_after_approval_and_notifies_those_notified(
    creator_client, make_request, guild_staff
):
    removal = make_request()
    services.request_approve(actor=guild_staff, request=removal)
    detail = reverse("removals:detail", args=[removal.pk])
    withdraw = reverse("removals:withdraw", args=[removal.pk])
    retract = reverse("removals:retract", args=[removal.pk])

    page = creator_client.get(detail).content.decode()
    assert retract in page and withdraw not in page
    assert "A retraction notice goes to the 2 developers notified." in page
    response = creator_client.post(withdraw, {}, follow=True)
    assert "cannot be withdrawn: retract it instead." in response.content.decode()
    removal.refresh_from_db()
    assert removal.status == Status.APPROVED

    confirm = creator_client.get(retract).content.decode()
    assert "Retract and notify 2 developers" in confirm
    # Without ticking the confirmation, nothing happens.
    response = creator_client.post(retract, {"reason": "We agreed a licence."})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not Notice.objects.filter(key__contains=":retraction:").exists()

    response = creator_client.post(
        retract, {"reason": "We agreed a licence.", "confirm": "on"}, follow=True
    )
    assert "A retraction notice is on its way to 2 developers." in response.content.decode()
    removal.refresh_from_db()
    assert removal.status == Status.RETRACTED
    assert Notice.objects.filter(topic=removal.topic, key__contains=":retraction:").count() == 2
    assert retract not in creator_client.get(detail).content.decode()


def test_matching_deny_choices_are_offered_after_approval_and_recorded(
    creator_client, make_request, guild_staff, two_works
):
    removal = make_request(asks=("inference", "credit"))
    detail = reverse("removals:detail", args=[removal.pk])
    action = reverse("removals:deny-overrides", args=[removal.pk])

    assert action not in creator_client.get(detail).content.decode()
    response = creator_client.post(action, follow=True)
    assert "Only an approved request" in response.content.decode()
    assert decide(two_works[0], "ai-input").choice == "deny"  # the default, not an override
    from consent.models import Preference

    assert not Preference.objects.exists()

    services.request_approve(actor=guild_staff, request=removal)
    page = creator_client.get(detail).content.decode()
    assert action in page and "Record matching deny choices in my AI preferences" in page

    response = creator_client.post(action, follow=True)
    page = response.content.decode()
    assert "now say no to use when running AI (retrieval, answers, prompts) for 2 works" in page
    assert Preference.objects.filter(use="ai-input", choice="deny").count() == 2
    assert "already say “no”" in creator_client.get(detail).content.decode()


def test_their_evidence_file_downloads_as_an_attachment(creator_client, make_request):
    removal = make_request(submit=False)
    evidence = services.evidence_add(
        actor=removal.creator,
        request=removal,
        upload=SimpleUploadedFile("shot.png", png_bytes(), content_type="image/png"),
    )

    got = download(creator_client, reverse("removals:evidence", args=[removal.pk, evidence.pk]))

    assert got.content_type == "image/png"
    assert got.disposition.startswith("attachment")
    assert got.body == png_bytes()


# --- HTML stays text -----------------------------------------------------------------------------


def test_html_in_titles_and_where_used_is_escaped_on_every_page(
    creator_client, creator, make_request, guild_staff
):
    nasty_work = factories.WorkFactory(owner=creator, title="<b>Bold</b> & <script>w()</script>")
    removal = make_request(submit=False)
    services.draft_update(
        actor=creator,
        request=removal,
        title="<script>alert('t')</script>",
        works=[nasty_work],
        where_used='<img src=x onerror="alert(1)">',
    )
    pk = removal.pk
    pages = [
        reverse("removals:list"),
        reverse("removals:detail", args=[pk]),
        reverse("removals:edit", args=[pk]),
        reverse("removals:submit", args=[pk]),
        reverse("removals:withdraw", args=[pk]),
    ]
    services.request_submit(actor=creator, request=removal, good_faith=True, accurate=True)
    for url in pages[:2] + pages[4:]:
        _assert_escaped(creator_client, url)
    RemovalRequest.objects.filter(pk=pk).update(status=Status.DRAFT)
    for url in pages[2:4]:
        _assert_escaped(creator_client, url)
    services.request_submit(actor=creator, request=removal, good_faith=True, accurate=True)
    services.request_approve(actor=guild_staff, request=removal)
    _assert_escaped(creator_client, reverse("removals:retract", args=[pk]))
    _assert_escaped(creator_client, reverse("removals:detail", args=[pk]))


def _assert_escaped(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == HTTPStatus.OK, url
    page = response.content.decode()
    for raw in ("<script>alert", "<script>w()", "<img src=x", "<b>Bold</b>"):
        assert raw not in page, (url, raw)
    assert "&lt;script&gt;alert(&#x27;t&#x27;)&lt;/script&gt;" in page, url


# --- Staff filing for a member under their mandate -----------------------------------------------


def test_staff_file_for_a_member_only_under_their_mandate(
    client, guild_staff, creator, wggb, two_works, developer, django_capture_on_commit_callbacks
):
    client.force_login(guild_staff)
    url = reverse("removals:file-for-member")

    page = client.get(url).content.decode()
    assert "No verified member of your guild has given it a mandate yet." in page
    response = client.post(url, {"mandate": "999"})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert not RemovalRequest.objects.exists()

    mandate = Mandate.objects.create(creator=creator, guild=wggb)
    assert "Alice Author" in client.get(url).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"mandate": str(mandate.pk), "title": "For Alice"})
    removal = RemovalRequest.objects.get()
    assert response.url == reverse("removals:edit", args=[removal.pk])
    assert removal.creator == creator and removal.filed_by == guild_staff
    assert removal.mandate == mandate
    assert any("started a removal request for you" in m.subject for m in mail.outbox)

    # The same pages, acting for them: their works, then submit.
    edit = reverse("removals:edit", args=[removal.pk])
    page = client.get(edit).content.decode()
    assert "You are filing for Alice Author" in page and "The Lighthouse" in page
    client.post(
        edit,
        form_data(removal, developers=[str(developer.pk)], asks=["cease"], action="add_matching"),
    )
    assert removal.works.count() == 2
    client.post(
        reverse("removals:submit", args=[removal.pk]), {"good_faith": "on", "accurate": "on"}
    )
    removal.refresh_from_db()
    assert removal.status == Status.SUBMITTED
    assert "For Alice" in client.get(url).content.decode()  # listed as filed by them

    # Without the mandate, the request is theirs alone again.
    Mandate.objects.filter(pk=mandate.pk).update(revoked_at=removal.created_at)
    assert client.get(removal.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND


def test_staff_of_another_guild_cannot_file_for_them(client, other_guild_staff, creator, wggb):
    mandate = Mandate.objects.create(creator=creator, guild=wggb)
    client.force_login(other_guild_staff)

    response = client.post(reverse("removals:file-for-member"), {"mandate": str(mandate.pk)})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Choose one of the members listed." in response.content.decode()
    assert not RemovalRequest.objects.exists()


# --- Who may see what ----------------------------------------------------------------------------

REQUEST_VIEWS = [
    ("removals:detail", "get"),
    ("removals:edit", "get"),
    ("removals:edit", "post"),
    ("removals:submit", "get"),
    ("removals:submit", "post"),
    ("removals:withdraw", "get"),
    ("removals:withdraw", "post"),
    ("removals:retract", "get"),
    ("removals:retract", "post"),
    ("removals:deny-overrides", "post"),
    ("removals:evidence-pack", "get"),
]


@pytest.fixture
def creators_request(make_request):
    removal = make_request(submit=False)
    services.evidence_add(
        actor=removal.creator,
        request=removal,
        upload=SimpleUploadedFile("a.png", png_bytes(), content_type="image/png"),
    )
    return removal


def _urls(removal):
    urls = [(reverse(name, args=[removal.pk]), method) for name, method in REQUEST_VIEWS]
    evidence = removal.evidence.get()
    urls.append((reverse("removals:evidence", args=[removal.pk, evidence.pk]), "get"))
    return urls


@pytest.mark.parametrize(
    "who", ["other_creator", "guild_staff", "other_guild_staff", "developer_person", "superuser"]
)
def test_nobody_else_reaches_their_request(client, creators_request, who, request):
    client.force_login(request.getfixturevalue(who))
    before = RemovalRequest.objects.values().get(pk=creators_request.pk)

    for url, method in _urls(creators_request):
        response = getattr(client, method)(url)
        assert response.status_code == HTTPStatus.NOT_FOUND, (who, url, method)
    assert RemovalRequest.objects.values().get(pk=creators_request.pk) == before
    assert "My novels" not in client.get(reverse("removals:list")).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client, creators_request):
    urls = _urls(creators_request) + [
        (reverse("removals:list"), "get"),
        (reverse("removals:create"), "post"),
        (reverse("removals:file-for-member"), "get"),
    ]
    for url, method in urls:
        response = getattr(client, method)(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response.url.startswith(reverse("account_login")), url
    assert RemovalRequest.objects.count() == 1


@pytest.mark.parametrize("who", ["creator", "developer_person", "charlie"])
def test_only_guild_staff_reach_the_filing_page(client, who, request):
    client.force_login(request.getfixturevalue(who))

    assert client.get(reverse("removals:file-for-member")).status_code == HTTPStatus.NOT_FOUND


def test_staff_without_their_mandate_cannot_open_a_request_they_did_not_file(
    client, guild_staff, creators_request, wggb
):
    # A mandate, but they filed it.
    Mandate.objects.create(creator=creators_request.creator, guild=wggb)
    client.force_login(guild_staff)

    assert client.get(creators_request.get_absolute_url()).status_code == HTTPStatus.NOT_FOUND


# --- In a real browser: without JavaScript, and audited with axe-core with it ------------------


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for this module's browser tests (as tests/e2e does)."""
    import os

    from playwright.sync_api import sync_playwright

    from tests.conftest import CHROMIUM
    from tests.e2e.conftest import CHROMIUM_ARGS

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            yield launched
            launched.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _phone(chromium, *, javascript: bool):
    context = chromium.new_context(
        java_script_enabled=javascript, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    return context, page


def _sign_in(page, live_server, user):
    import re

    page.goto(live_server.url + reverse("account_login"))
    page.get_by_label(re.compile("^email", re.I)).fill(user.email)
    page.get_by_label(re.compile("^password", re.I)).fill(factories.PASSWORD)
    page.get_by_role("button", name=re.compile("sign in", re.I)).click()
    page.wait_for_url(re.compile("/dashboard/"))


def _axe(page):
    from axe_playwright_python.sync_playwright import Axe

    from tests.e2e.conftest import AXE_OPTIONS

    results = Axe().run(page, options=AXE_OPTIONS)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert not bad, f"axe-core on {page.url}: {bad}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_filing_works_in_a_browser_without_javascript(
    chromium, live_server, creator, developer, other_developer
):
    import re

    factories.WorkFactory(owner=creator, title="The Lighthouse")
    factories.WorkFactory(owner=creator, title="Lighthouse Keeper")
    factories.WorkFactory(owner=creator, title="Unrelated Poems")
    context, page = _phone(chromium, javascript=False)
    try:
        _sign_in(page, live_server, creator)
        page.goto(live_server.url + reverse("removals:list"))
        page.get_by_role("button", name="New removal request").click()
        page.wait_for_url(re.compile(r"/requests/\d+/edit/"))
        page.get_by_label("Search your works").fill("Lighthouse")
        page.get_by_role("button", name="Search", exact=True).click()
        page.get_by_role("button", name="Select all 2 matching works").click()
        assert page.get_by_role("heading", name="In this request (2)").is_visible()
        page.get_by_label("Example AI Ltd").check()
        page.get_by_label("Other Models Inc").check()
        page.get_by_label("Stop using the works").check()
        page.get_by_label("Where you believe your works were used").fill("https://data.example/x")
        page.get_by_label("Add an evidence file").set_input_files(
            {"name": "shot.png", "mimeType": "image/png", "buffer": png_bytes()}
        )
        page.get_by_role("button", name="Attach the file").click()
        assert page.get_by_role("link", name="shot.png").is_visible()
        page.get_by_role("button", name="Save and review before submitting").click()
        page.get_by_role("button", name="Submit the request").click()
        assert page.get_by_text("Confirm the good-faith statement").first.is_visible()
        page.get_by_label("I confirm the good-faith statement").check()
        page.get_by_label("I confirm the information is accurate").check()
        page.get_by_role("button", name="Submit the request").click()
        page.wait_for_url(re.compile(r"/requests/\d+/$"))
    finally:
        context.close()

    removal = RemovalRequest.objects.get(creator=creator)
    assert removal.status == Status.SUBMITTED
    assert removal.works.count() == 2 and removal.developers.count() == 2
    assert removal.evidence.count() == 1


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_their_pages_pass_an_accessibility_audit_on_a_phone(
    chromium, live_server, creator, guild_staff, two_works
):
    from notices.services import answer_record

    developer = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    factories.DeveloperContactFactory(developer=developer)
    removal = services.draft_create(actor=creator, creator=creator, title="Audited")
    services.draft_update(
        actor=creator, request=removal, works=two_works, developers=[developer], asks=["cease"]
    )
    draft = services.draft_create(actor=creator, creator=creator, title="A draft")
    services.request_submit(actor=creator, request=removal, good_faith=True, accurate=True)
    (notice,) = services.request_approve(actor=guild_staff, request=removal)
    answer_record(notice=notice, kind="disputed", statement="Licensed.", via="link")
    context, page = _phone(chromium, javascript=True)
    try:
        _sign_in(page, live_server, creator)
        for url in (
            reverse("removals:list"),
            reverse("removals:detail", args=[removal.pk]),
            reverse("removals:retract", args=[removal.pk]),
            reverse("removals:edit", args=[draft.pk]),
            reverse("removals:submit", args=[draft.pk]),
            reverse("removals:withdraw", args=[draft.pk]),
        ):
            page.goto(live_server.url + url)
            _axe(page)
        page.goto(live_server.url + reverse("removals:submit", args=[draft.pk]))
        page.get_by_role("button", name="Submit the request").click()
        _axe(page)  # with its errors
    finally:
        context.close()
