"""The staff dashboard's numbers on a small known dataset (open requests by state and age,
answer and compliance rates per developer by month, median time to answer, overdue notices),
its CSV, the overdue-notices page, who sees what, and constant query counts."""

import csv
import io
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.deadlines import deadlines_run
from notices.models import Notice, NoticeAnswer
from notices.services import answer_record
from removals import contests, services, stats
from removals.models import RemovalRequest
from tests import factories
from tests.e2e import conftest as e2e

# The browser test's fixtures (one Chromium per module, a phone-sized page, axe-core, sign-in).
browser, page, audit = e2e.browser, e2e.page, e2e.audit
browser_sign_in = e2e.browser_sign_in

Status = RemovalRequest.Status
STATS = reverse("removals-staff:stats")
CSV = reverse("removals-staff:stats-csv")
OVERDUE = reverse("removals-staff:overdue")


def _notice(request, developer):
    return Notice.objects.get(topic=request.topic, developer=developer, kind=Notice.Kind.NOTICE)


def _answer(notice, kind, *, after_days, statement="Done."):
    answer_record(
        notice=notice,
        kind=kind,
        statement="" if kind == NoticeAnswer.Kind.ACKNOWLEDGED else statement,
        via=NoticeAnswer.Via.LINK,
    )
    Notice.objects.filter(pk=notice.pk).update(
        answered_at=notice.created_at + timedelta(days=after_days)
    )


def _submitted(creator, developer, *, days_ago):
    work = factories.WorkFactory(owner=creator)
    obj = services.draft_create(actor=creator, creator=creator)
    services.draft_update(
        actor=creator, request=obj, works=[work], developers=[developer], asks=["cease"]
    )
    services.request_submit(actor=creator, request=obj, good_faith=True, accurate=True)
    RemovalRequest.objects.filter(pk=obj.pk).update(
        submitted_at=timezone.now() - timedelta(days=days_ago)
    )
    obj.refresh_from_db()
    return obj


@pytest.fixture
def dataset(make_request, guild_staff, creator, developer, other_developer):
    """Two approved requests to Example AI (A) and Other Models (B):

    - this month: A acknowledges after 2 days; B never answers (overdue);
    - last month: A complies after 4 days (accepted by the creator); B disputes after 10 days
      (that request closes).

    Plus one request waiting 10 days for a decision and one sent back 40 days ago.
    """
    now = timezone.now()
    last_month = now.replace(day=1) - timedelta(days=10)
    this = make_request()
    services.request_approve(actor=guild_staff, request=this)
    before = make_request()
    services.request_approve(actor=guild_staff, request=before)
    Notice.objects.filter(topic=before.topic).update(created_at=last_month)

    _answer(_notice(this, developer), NoticeAnswer.Kind.ACKNOWLEDGED, after_days=2)
    _answer(_notice(before, developer), NoticeAnswer.Kind.COMPLIED, after_days=4)
    _answer(
        _notice(before, other_developer),
        NoticeAnswer.Kind.DISPUTED,
        after_days=10,
        statement="We never used these works.",
    )
    # Issue 20: the creator accepts A's "complied", so that request closes.
    contests.compliance_accept(actor=creator, contest=before.compliance_contests.get())
    deadlines_run(now=now + timedelta(days=31))

    _submitted(creator, developer, days_ago=10)
    sent_back = _submitted(creator, developer, days_ago=40)
    services.info_request(actor=guild_staff, request=sent_back, question="Which edition?")
    return {"this": this, "before": before, "last_month": last_month}


def _by_name(dashboard):
    return {d.name: d for d in dashboard.developers}


# --- The numbers ---------------------------------------------------------------------------------


def test_figures_on_a_known_dataset(dataset, guild_staff, developer, other_developer):
    data = stats.developer_figures(stats.requests_in_scope(guild_staff))

    a, b = _by_name(data)["Example AI Ltd"], _by_name(data)["Other Models Inc"]
    assert (a.total.sent, a.total.answered, a.total.complied, a.total.disputed) == (2, 2, 1, 0)
    assert a.total.answer_rate == 1.0 and a.total.compliance_rate == 0.5
    assert a.median_seconds == pytest.approx(3 * 86400)
    assert a.overdue == 0
    assert (b.total.sent, b.total.answered, b.total.complied, b.total.disputed) == (2, 1, 0, 1)
    assert b.total.answer_rate == 0.5 and b.total.compliance_rate == 0.0
    assert b.median_seconds == pytest.approx(10 * 86400)
    assert b.overdue == 1
    assert data.overall.total.sent == 4 and data.overall.total.answered == 3
    assert data.overall.median_seconds == pytest.approx(4 * 86400)

    # By month: last month's notices in last month's bucket, this month's in this one.
    this_month, previous = data.months[-1], data.months[-2]
    assert len(data.months) == 12
    assert dataset["last_month"].date().replace(day=1) == previous
    assert (a.months[this_month].sent, a.months[this_month].answered) == (1, 1)
    assert (a.months[previous].complied, b.months[previous].disputed) == (1, 1)
    assert sum(f.sent for m, f in a.months.items() if m not in (this_month, previous)) == 0

    open_rows = {row.status: row for row in data.open_requests}
    assert open_rows[Status.APPROVED].buckets == {"recent": 1, "weeks": 0, "old": 0}
    assert open_rows[Status.SUBMITTED].buckets == {"recent": 0, "weeks": 1, "old": 0}
    assert open_rows[Status.NEEDS_INFO].buckets == {"recent": 0, "weeks": 0, "old": 1}
    assert data.open_total == 3
    assert [(o.name, o.count) for o in data.overdue] == [("Other Models Inc", 1)]


def test_an_odd_number_of_answers_takes_the_middle_one(guild_staff, make_request, developer):
    for days in (1, 5, 30):
        obj = make_request(developers=[developer])
        services.request_approve(actor=guild_staff, request=obj)
        _answer(_notice(obj, developer), NoticeAnswer.Kind.ACKNOWLEDGED, after_days=days)

    data = stats.developer_figures(stats.requests_in_scope(guild_staff))

    assert _by_name(data)["Example AI Ltd"].median_seconds == pytest.approx(5 * 86400)


def test_other_guilds_staff_count_none_of_it_and_superusers_count_all(
    dataset, other_guild_staff, superuser
):
    theirs = stats.developer_figures(stats.requests_in_scope(other_guild_staff))
    assert theirs.developers == [] and theirs.open_total == 0 and theirs.overdue == []

    everything = stats.developer_figures(
        stats.requests_in_scope(superuser, everything_for_superusers=True)
    )
    assert everything.overall.total.sent == 4 and everything.open_total == 3


def test_notices_older_than_twelve_months_are_left_out(guild_staff, make_request, developer):
    obj = make_request(developers=[developer])
    services.request_approve(actor=guild_staff, request=obj)
    Notice.objects.filter(topic=obj.topic).update(created_at=timezone.now() - timedelta(days=400))
    data = stats.developer_figures(stats.requests_in_scope(guild_staff))
    assert data.overall.total.sent == 0


# --- The page and the CSV -----------------------------------------------------------------------


def test_dashboard_page_shows_charts_and_tables(client, dataset, guild_staff):
    client.force_login(guild_staff)

    response = client.get(STATS)

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert page.count('role="img"') >= 3
    assert '<title id="open-chart-title">Open removal requests by state and age</title>' in page
    assert "Other Models Inc: Overdue notices — 1" in page
    assert "Answer and compliance rates by month: All developers" in page
    # The data tables next to the charts.
    assert "Open requests by state, and how long ago they were submitted" in page
    assert "Example AI Ltd" in page and "3 days" in page and "10 days" in page
    assert "75 %" in page  # overall answer rate


def test_dashboard_for_one_developer(client, dataset, guild_staff):
    client.force_login(guild_staff)
    page = client.get(STATS, {"developer": "example-ai"}).content.decode()
    assert "Answer and compliance rates by month: Example AI Ltd" in page
    assert "Answer rate, " in page and ": 100 %" in page


def test_csv_has_the_per_developer_figures(client, dataset, guild_staff):
    client.force_login(guild_staff)

    response = client.get(CSV)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == stats.CSV_HEADER
    totals = {r[0]: r for r in rows[1:] if r[2] == "last-12-months"}
    # The last column (issue 20): complied answers the creator contested.
    assert totals["Example AI Ltd"][3:] == ["2", "2", "100.0", "1", "50.0", "0", "3.00", "0", "0"]
    assert totals["Other Models Inc"][3:] == [
        *["2", "1", "50.0", "0", "0.0", "1", "10.00", "1", "0"]
    ]
    assert totals["All developers"][3:6] == ["4", "3", "75.0"]
    months = [r for r in rows if r[0] == "Example AI Ltd" and r[2] != "last-12-months"]
    assert len(months) == 12 and months[-1][2] == timezone.localdate().strftime("%Y-%m")


def test_csv_cells_cannot_run_formulas(client, dataset, guild_staff, other_developer):
    type(other_developer).objects.filter(pk=other_developer.pk).update(
        name='=HYPERLINK("http://evil.example")'
    )
    client.force_login(guild_staff)
    text = b"".join(client.get(CSV).streaming_content).decode("utf-8-sig")
    names = {row[0] for row in csv.reader(io.StringIO(text))}
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert not any(name.startswith("=") for name in names)


@pytest.mark.parametrize("url", [STATS, CSV, OVERDUE])
def test_anonymous_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("url", [STATS, CSV, OVERDUE])
@pytest.mark.parametrize("persona", ["creator", "charlie", "registry_manager"])
def test_people_without_a_staff_role_are_refused(client, url, persona, request, dataset):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN


@pytest.mark.parametrize("url", [STATS, CSV, OVERDUE])
def test_a_developers_person_is_refused(client, url, developer):
    client.force_login(factories.DeveloperMemberFactory(developer=developer).user)
    assert client.get(url).status_code == HTTPStatus.FORBIDDEN


def test_other_guilds_staff_see_none_of_it_on_the_pages(client, dataset, other_guild_staff):
    client.force_login(other_guild_staff)
    page = client.get(STATS).content.decode()
    assert "Other Models Inc" not in page and "Example AI Ltd" not in page
    text = b"".join(client.get(CSV).streaming_content).decode("utf-8-sig")
    assert "Example AI Ltd" not in text
    assert "Other Models Inc" not in client.get(OVERDUE).content.decode()


# --- Overdue notices ----------------------------------------------------------------------------


def test_overdue_page_lists_unanswered_notices_past_their_deadline_by_developer(
    client, guild_staff, make_request, developer, other_developer
):
    first = make_request()
    services.request_approve(actor=guild_staff, request=first)
    second = make_request(developers=[other_developer])
    services.request_approve(actor=guild_staff, request=second)
    # A final answer settles a notice (an acknowledgement alone would not: test_overdue_after_ack).
    answer_record(
        notice=_notice(first, developer),
        kind="complied",
        statement="Removed.",
        via=NoticeAnswer.Via.LINK,
    )
    Notice.objects.filter(topic__in=[first.topic, second.topic]).update(
        answer_due_at=timezone.now() - timedelta(days=5, hours=1)
    )
    deadlines_run(now=timezone.now())
    client.force_login(guild_staff)

    page = client.get(OVERDUE).content.decode()

    assert "2 notices overdue" in page
    # Grouped by developer: Other Models Inc has both requests' notices; Example AI answered.
    assert page.count('<h2 id="developer-') == 1
    assert "Other Models Inc" in page and "Example AI Ltd" not in page
    assert reverse("removals-staff:review", args=[first.pk]) in page
    assert reverse("removals-staff:review", args=[second.pk]) in page
    assert page.count("5 days") == 2


def test_a_notice_not_yet_due_or_answered_is_not_overdue(client, guild_staff, make_request):
    obj = make_request()
    services.request_approve(actor=guild_staff, request=obj)
    deadlines_run(now=timezone.now() + timedelta(days=10))
    client.force_login(guild_staff)
    assert "No answer is overdue" in client.get(OVERDUE).content.decode()


def test_overdue_page_links_to_the_notice_for_registry_managers(client, superuser, developer, db):
    loner = factories.UserFactory(email="loner@example.org")
    work = factories.WorkFactory(owner=loner)
    obj = services.draft_create(actor=loner, creator=loner)
    services.draft_update(
        actor=loner, request=obj, works=[work], developers=[developer], asks=["cease"]
    )
    services.request_submit(actor=loner, request=obj, good_faith=True, accurate=True)
    services.request_approve(actor=superuser, request=obj)
    deadlines_run(now=timezone.now() + timedelta(days=31))
    client.force_login(superuser)
    page = client.get(OVERDUE).content.decode()
    assert reverse("answers:staff-notice", args=[_notice(obj, developer).pk]) in page


def _bulk_notices(requests, developers, *, overdue):
    now = timezone.now()
    Notice.objects.bulk_create(
        Notice(
            developer=d,
            topic=r.topic,
            key=f"bulk:{r.pk}:{d.pk}",
            subject="Removal",
            text="…",
            answer_due_at=now - timedelta(days=3),
            overdue_at=now - timedelta(days=2) if overdue else None,
            answered_at=None if overdue else now - timedelta(days=4),
            created_at=now - timedelta(days=40),
        )
        for r in requests
        for d in developers
    )


@pytest.mark.parametrize("count", [3, 120])
def test_pages_keep_a_constant_query_count(
    client,
    guild_staff,
    creator,
    developer,
    other_developer,
    count,
    django_assert_max_num_queries,
):
    work = factories.WorkFactory(owner=creator)
    now = timezone.now()
    requests = RemovalRequest.objects.bulk_create(
        RemovalRequest(
            creator=creator,
            filed_by=creator,
            status=Status.APPROVED,
            submitted_at=now - timedelta(days=i % 50),
            decided_at=now,
        )
        for i in range(count)
    )
    RemovalRequest.works.through.objects.bulk_create(
        RemovalRequest.works.through(removalrequest=r, work=work) for r in requests
    )
    half = count // 2
    _bulk_notices(requests[:half], [developer, other_developer], overdue=True)
    _bulk_notices(requests[half:], [developer, other_developer], overdue=False)
    client.force_login(guild_staff)

    for url in (STATS, OVERDUE):
        with django_assert_max_num_queries(16):
            assert client.get(url).status_code == HTTPStatus.OK
    with django_assert_max_num_queries(16):
        response = client.get(CSV)
        rows = b"".join(response.streaming_content).decode("utf-8-sig").splitlines()
    assert len(rows) == 1 + 3 * 13


@pytest.mark.browser
def test_dashboard_and_overdue_pages_in_a_browser(
    live_server, page, audit, browser_sign_in, dataset, guild_staff
):
    browser_sign_in(page, guild_staff)
    page.goto(live_server.url + STATS)
    assert page.get_by_role("img", name="Open removal requests by state and age").is_visible()
    audit(page)
    page.get_by_label("AI developer", exact=True).select_option("other-models")
    page.get_by_role("button", name="Show").click()
    assert page.get_by_role(
        "img", name="Answer and compliance rates by month: Other Models Inc"
    ).is_visible()
    audit(page)
    page.goto(live_server.url + OVERDUE)
    assert page.get_by_role("heading", name="Other Models Inc").is_visible()
    audit(page)
    assert not page.console_errors


def test_contested_answers_are_counted_on_the_page_and_in_the_csv(
    client, guild_staff, creator, make_request, developer
):
    """Issue 20: a "complied" the creator contested counts as contested, for its developer and
    overall, by the month its notice was sent — and still counts after staff asked again."""
    obj = make_request(developers=[developer])
    (notice,) = services.request_approve(actor=guild_staff, request=obj)
    answer, _ = answer_record(notice=notice, kind="complied", statement="Done.", via="link")
    contests.compliance_contest(
        actor=creator, contest=answer.compliance_contest, reason="Still there."
    )
    contests.compliance_ask_again(actor=guild_staff, contest=answer.compliance_contest)

    data = stats.developer_figures(stats.requests_in_scope(guild_staff))
    assert _by_name(data)["Example AI Ltd"].total.contested == 1
    assert data.overall.total.contested == 1
    client.force_login(guild_staff)
    page = client.get(STATS).content.decode()
    assert "contested by the creator</dt><dd>1</dd>" in page
    rows = list(
        csv.reader(io.StringIO(b"".join(client.get(CSV).streaming_content).decode("utf-8-sig")))
    )
    assert rows[0][-1] == "contested"
    total = next(r for r in rows if r[0] == "Example AI Ltd" and r[2] == "last-12-months")
    assert total[-1] == "1"
