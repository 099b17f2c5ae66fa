"""Issue 20: "Needs you" at the top of every dashboard — what waits on this person, each item one
link to the page where it is acted on, a constant number of queries whatever the data, only
their own items — and signing in lands each role on the dashboard where their day starts."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import GuildMembership
from notices.models import Notice, NoticeAnswer
from notices.services import answer_record
from removals import contests
from removals import services as removals
from removals.models import ComplianceContest
from tests import factories
from tests.factories import PASSWORD
from works import services as works_services


@pytest.fixture(autouse=True)
def webhook_key(settings):
    settings.NOTICES_WEBHOOK_KEY = "dGVzdC1vbmx5LXdlYmhvb2sta2V5LTMyLWJ5dGVzISE="
    settings.NOTICES_REMINDER_OFFSETS = []


def _developer(name):
    developer = factories.AIDeveloperFactory(name=name)
    factories.DeveloperContactFactory(developer=developer)
    return developer


def _request(creator, title, developers, *, submit=True):
    request = removals.draft_create(actor=creator, creator=creator, title=title)
    removals.draft_update(
        actor=creator,
        request=request,
        works=[factories.WorkFactory(owner=creator)],
        developers=developers,
        asks=["cease"],
        where_used="https://dataset.example/books3",
    )
    if submit:
        removals.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
    request.refresh_from_db()
    return request


def _needs(client, user, url_name):
    client.force_login(user)
    response = client.get(reverse(url_name), follow=True)
    assert response.status_code == 200
    return response.context["needs"], response.content.decode()


def _keys(needs):
    return [n.key for n in needs]


def _complied(notice, days_ago=0):
    """The developer reports it complied ``days_ago``: the creator's window ends
    REMOVALS_CONTEST_DAYS after that."""
    answer, _ = answer_record(notice=notice, kind="complied", statement="Removed.", via="link")
    contest = answer.compliance_contest
    if days_ago:
        ComplianceContest.objects.filter(pk=contest.pk).update(
            window_ends_at=contest.window_ends_at - timedelta(days=days_ago)
        )
        contest.refresh_from_db()
    return contest


def _contested(creator, notice, days_ago=0):
    """The developer reports it complied and the creator contests it ``days_ago``."""
    contest = contests.compliance_contest(
        actor=creator, contest=_complied(notice), reason="The model still quotes my book."
    )
    if days_ago:
        ComplianceContest.objects.filter(pk=contest.pk).update(
            decided_at=timezone.now() - timedelta(days=days_ago)
        )
    return contest


def _day(value):
    return f"{timezone.localtime(value):%-d %B %Y}"


# --- A creator ---------------------------------------------------------------------------------


def test_a_creator_sees_their_guilds_question_an_answer_and_overdue_notices(
    client, creator, other_creator, guild_staff
):
    labs, models = _developer("Example AI Labs"), _developer("Sample Models")
    asked = _request(creator, "Poems in chatbots", [labs])
    removals.info_request(actor=guild_staff, request=asked, question="Which chatbot?")
    approved = _request(creator, "My novels", [labs, models])
    notices = removals.request_approve(actor=guild_staff, request=approved)
    answer_record(
        notice=next(n for n in notices if n.developer == models),
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        statement="Checking.",
        via=NoticeAnswer.Via.LINK,
    )
    # Labs's deadline passed five days ago with no answer.
    Notice.objects.filter(developer=labs, topic=approved.topic).update(
        answer_due_at=timezone.now() - timedelta(days=5)
    )

    needs, page = _needs(client, creator, "portal:dashboard")

    assert _keys(needs) == ["question", "answer", "overdue"]
    question, answer, overdue = needs
    assert question.text == "Answer the question about “Poems in chatbots”"
    assert question.url == reverse("removals:detail", args=[asked.pk])
    assert answer.text == "Sample Models answered “My novels”: acknowledged"
    assert answer.url == reverse("removals:detail", args=[approved.pk])
    assert overdue.text == "1 developer did not answer “My novels” by the deadline"
    assert overdue.when == "overdue 5\xa0days" and overdue.urgent
    # The panel comes first on the page, each item a link to its page.
    assert page.index("Needs you") < page.index("My creator profile")
    for need in needs:
        assert f'href="{need.url}"' in page

    # Nobody else sees them: another creator's panel is empty.
    needs, page = _needs(client, other_creator, "portal:dashboard")
    assert needs == [] and "Nothing needs you now." in page


def test_a_creator_sees_conflicts_and_findings_linked_to_their_filtered_lists(
    client, creator, other_creator
):
    # Another creator's work already carries the ISBN: a possible conflict for both.
    works_services.work_create(
        owner=other_creator, title="B", kind="book", identifiers={"isbn": ["9780306406157"]}
    )
    works_services.work_create(
        owner=creator, title="A", kind="book", identifiers={"isbn": ["9780306406157"]}
    )

    needs, _ = _needs(client, creator, "portal:dashboard")

    assert _keys(needs) == ["conflicts"]
    assert needs[0].text == "1 possible conflict with another creator's claim"
    assert needs[0].url == reverse("works:list") + "?conflict=open&status=all"


def test_a_closed_or_answered_request_needs_nothing(client, creator, guild_staff):
    labs = _developer("Example AI Labs")
    approved = _request(creator, "Done", [labs])
    (notice,) = removals.request_approve(actor=guild_staff, request=approved)
    answer_record(notice=notice, kind="disputed", statement="Licensed.", via="link")
    Notice.objects.filter(pk=notice.pk).update(answer_due_at=timezone.now() - timedelta(days=1))
    approved.refresh_from_db()
    assert approved.status == "closed"  # every developer gave a final answer

    needs, page = _needs(client, creator, "portal:dashboard")

    assert needs == [] and "Nothing needs you now." in page


def test_a_creator_sees_each_complied_answer_open_to_contest_soonest_deadline_first(
    client, creator, other_creator, guild_staff, settings
):
    settings.REMOVALS_CONTEST_DAYS = 30
    labs, models, bots = (
        _developer("Example AI Labs"),
        _developer("Sample Models"),
        _developer("Chat Bots"),
    )
    novels = _request(creator, "My novels", [labs, models, bots])
    notices = {n.developer: n for n in removals.request_approve(actor=guild_staff, request=novels)}
    later = _complied(notices[labs])  # window ends in 30 days
    sooner = _complied(notices[models], days_ago=10)  # window ends in 20 days
    answer_record(notice=notices[bots], kind="acknowledged", statement="Seen.", via="link")

    needs, page = _needs(client, creator, "portal:dashboard")

    # Each "complied" is its own item, the window that ends soonest first; the generic answers
    # item now speaks only of the answer that asks nothing of them (the acknowledgement).
    assert _keys(needs) == ["complied", "complied", "answer"]
    first, second, answer = needs
    assert first.text == (
        "Sample Models reported they complied with “My novels” — accept or contest by "
        f"{_day(sooner.window_ends_at)}"
    )
    assert first.url == reverse("removals:detail", args=[novels.pk]) + f"#contest-{sooner.pk}"
    assert first.when == "2\xa0weeks left" and first.at == sooner.window_ends_at
    assert second.text.startswith("Example AI Labs reported they complied with “My novels”")
    assert second.url.endswith(f"#contest-{later.pk}")
    assert answer.text == "Chat Bots answered “My novels”: acknowledged"
    for need in needs:
        assert f'href="{need.url}"' in page

    # The link opens the request's page at that answer, with its Accept and Contest buttons.
    detail = client.get(first.url.split("#")[0]).content.decode()
    assert f'id="contest-{sooner.pk}"' in detail
    assert "Accept Sample Models's answer" in detail and "Contest it" in detail

    # Accepted, it needs them no more — and does not come back as a generic answer.
    contests.compliance_accept(actor=creator, contest=sooner)
    needs, _ = _needs(client, creator, "portal:dashboard")
    assert _keys(needs) == ["complied", "answer"] and needs[0].url.endswith(f"#contest-{later.pk}")

    # Nobody else sees them.
    needs, page = _needs(client, other_creator, "portal:dashboard")
    assert needs == [] and "Nothing needs you now." in page


def test_a_complied_answer_whose_window_passed_or_was_contested_needs_nothing(
    client, creator, guild_staff, settings
):
    settings.REMOVALS_CONTEST_DAYS = 30
    labs, models = _developer("Example AI Labs"), _developer("Sample Models")
    novels = _request(creator, "My novels", [labs, models])
    notices = {n.developer: n for n in removals.request_approve(actor=guild_staff, request=novels)}
    _complied(notices[labs], days_ago=31)  # the window ended yesterday (the sweep not yet run)
    _contested(creator, notices[models])

    needs, _ = _needs(client, creator, "portal:dashboard")

    assert needs == []


def test_overdue_notices_on_a_contested_request_count_for_the_creator_and_staff(
    client, creator, guild_staff, other_guild_staff
):
    labs, models, bots = (
        _developer("Example AI Labs"),
        _developer("Sample Models"),
        _developer("Chat Bots"),
    )
    novels = _request(creator, "My novels", [labs, models, bots])
    notices = {n.developer: n for n in removals.request_approve(actor=guild_staff, request=novels)}
    # Labs's "complied" was contested and Labs asked again; its follow-up is now past due.
    follow_up = contests.compliance_ask_again(
        actor=guild_staff, contest=_contested(creator, notices[labs])
    )
    Notice.objects.filter(pk=follow_up.pk).update(answer_due_at=timezone.now() - timedelta(days=4))
    # Chat Bots never answered its first notice, due two days ago.
    Notice.objects.filter(pk=notices[bots].pk).update(
        answer_due_at=timezone.now() - timedelta(days=2)
    )
    # Sample Models's "complied" is contested now: the request is back with the staff.
    _contested(creator, notices[models])
    novels.refresh_from_db()
    assert novels.status == "contested"

    needs, _ = _needs(client, creator, "portal:dashboard")

    assert _keys(needs) == ["overdue"]
    assert needs[0].text == "2 developers did not answer “My novels” by the deadline"
    assert needs[0].when == "overdue 4\xa0days" and needs[0].urgent
    assert needs[0].url == reverse("removals:detail", args=[novels.pk])

    needs, _ = _needs(client, guild_staff, "portal:staff-dashboard")
    overdue = next(n for n in needs if n.key == "overdue-notices")
    assert overdue.text == "2 removal notices overdue"
    assert overdue.when == "oldest overdue 4\xa0days"
    assert overdue.url == reverse("removals-staff:overdue")

    needs, _ = _needs(client, other_guild_staff, "portal:staff-dashboard")
    assert needs == []


@pytest.mark.parametrize("many", [False, True])
def test_the_creator_panel_costs_the_same_whatever_the_number_of_requests(
    client, creator, guild_staff, many, django_assert_max_num_queries
):
    labs, models = _developer("Example AI Labs"), _developer("Sample Models")
    for n in range(12 if many else 1):
        asked = _request(creator, f"Asked {n}", [labs])
        removals.info_request(actor=guild_staff, request=asked, question="Which?")
        approved = _request(creator, f"Approved {n}", [labs])
        (notice,) = removals.request_approve(actor=guild_staff, request=approved)
        answer_record(notice=notice, kind="acknowledged", statement="Seen.", via="link")
        # A "complied" open to contest, and a contested request whose follow-up is overdue.
        complied = _request(creator, f"Complied {n}", [labs])
        _complied(removals.request_approve(actor=guild_staff, request=complied)[0])
        contested = _request(creator, f"Contested {n}", [labs, models])
        first, second = removals.request_approve(actor=guild_staff, request=contested)
        contests.compliance_ask_again(actor=guild_staff, contest=_contested(creator, first))
        _contested(creator, second)
    Notice.objects.update(answer_due_at=timezone.now() - timedelta(days=2))
    client.force_login(creator)

    # The bound of the dashboard before the panel (tests/portal/test_staff_dashboard.py).
    with django_assert_max_num_queries(12):
        response = client.get(reverse("portal:dashboard"))

    needs = response.context["needs"]
    if many:  # five of each, and one more item for the rest
        assert _keys(needs).count("question") == 5 and _keys(needs).count("overdue") == 5
        assert _keys(needs).count("complied") == 5
        assert [n.text for n in needs if n.key.endswith("-more")] == [
            "7 more questions",
            "7 more answers to accept or contest",
            "7 more requests with answers",
            "19 more requests with overdue answers",
        ]
    else:  # the overdue ones: the approved request and the contested one
        assert _keys(needs) == ["question", "complied", "answer", "overdue", "overdue"]


# --- Guild staff and administrators --------------------------------------------------------------


def test_staff_see_their_guilds_queues_oldest_first_with_their_age(
    client, guild_staff, other_guild_staff, creator, wggb
):
    claim = factories.MembershipFactory(guild=wggb)  # a membership claim, waiting 3 days
    GuildMembership.objects.filter(pk=claim.pk).update(
        claimed_at=timezone.now() - timedelta(days=3)
    )
    _request(creator, "Please review", [_developer("Example AI Labs")])  # waiting today

    needs, page = _needs(client, guild_staff, "portal:staff-dashboard")

    assert _keys(needs) == ["membership-claims", "removal-requests"]
    assert needs[0].text == "1 membership claim to decide"
    assert needs[0].when == "waiting 3\xa0days"
    assert needs[0].url == reverse("accounts:membership-queue")
    assert needs[1].text == "1 removal request to review"
    assert needs[1].url == reverse("removals-staff:queue")
    assert page.index("Needs you") < page.index("Membership claims waiting")

    # Another guild's staff see none of it.
    needs, page = _needs(client, other_guild_staff, "portal:staff-dashboard")
    assert needs == [] and "Nothing needs you now." in page


def test_staff_see_contested_requests_waiting_for_them_oldest_first_with_their_age(
    client, guild_staff, other_guild_staff, creator
):
    labs = _developer("Example AI Labs")
    novels = _request(creator, "My novels", [labs])
    (notice,) = removals.request_approve(actor=guild_staff, request=novels)
    _contested(creator, notice, days_ago=3)  # contested three days ago
    _request(creator, "Please review", [labs])  # waiting today

    needs, page = _needs(client, guild_staff, "portal:staff-dashboard")

    assert _keys(needs) == ["contested-requests", "removal-requests"]
    contested = needs[0]
    assert contested.text == "1 request whose creator contests a developer's “complied”"
    assert contested.when == "waiting 3\xa0days"
    assert contested.url == reverse("removals-staff:queue")
    assert needs[1].text == "1 removal request to review"
    # The queue lists it, leading to the page where staff ask the developer again.
    queue = client.get(contested.url).content.decode()
    review_url = reverse("removals-staff:review", args=[novels.pk])
    assert f'href="{review_url}"' in queue and "Contested" in queue
    review = client.get(review_url).content.decode()
    assert "Ask Example AI Labs again" in review

    # Asked again, it waits on the developer, not on the staff.
    contest = ComplianceContest.objects.get(request=novels)
    contests.compliance_ask_again(actor=guild_staff, contest=contest)
    needs, _ = _needs(client, guild_staff, "portal:staff-dashboard")
    assert _keys(needs) == ["removal-requests"]

    # Another guild's staff see none of it.
    needs, _ = _needs(client, other_guild_staff, "portal:staff-dashboard")
    assert needs == []


@pytest.mark.parametrize("count", [1, 20])
def test_the_staff_panel_costs_the_same_whatever_the_number_waiting(
    client, guild_staff, wggb, count, django_assert_max_num_queries
):
    labs, models = _developer("Example AI Labs"), _developer("Sample Models")
    for _ in range(count):
        factories.MembershipFactory(guild=wggb)
    for n in range(min(count, 3)):
        # A contested request whose other developer's notice is overdue.
        creator = factories.CreatorProfileFactory().user
        factories.MembershipFactory(guild=wggb, user=creator, verified=True)
        contested = _request(creator, f"Contested {n}", [labs, models])
        first, second = removals.request_approve(actor=guild_staff, request=contested)
        _contested(creator, first)
        Notice.objects.filter(pk=second.pk).update(answer_due_at=timezone.now() - timedelta(days=1))
    client.force_login(guild_staff)
    with django_assert_max_num_queries(18):  # test_staff_dashboard.py's bound
        response = client.get(reverse("portal:staff-dashboard"))
    texts = [n.text for n in response.context["needs"]]
    assert f"{count} membership claim{'s' if count > 1 else ''} to decide" in texts
    many = min(count, 3) > 1
    assert (
        f"{min(count, 3)} request{'s' if many else ''} whose creator contests a developer's "
        "“complied”" in texts
    )
    assert f"{min(count, 3)} removal notice{'s' if many else ''} overdue" in texts


def test_an_administrator_sees_failed_deliveries_and_what_is_routed_to_them(client, superuser):
    developer = _developer("Example AI Labs")
    notice = Notice.objects.create(
        developer=developer, topic="t:1", key="k1", subject="S", text="T"
    )
    notice.deliveries.create(channel="email", recipient="a@example.org", status="failed")

    needs, page = _needs(client, superuser, "portal:admin-dashboard")

    assert _keys(needs) == ["failed-deliveries"]
    assert needs[0].urgent and needs[0].text == "1 notice that could not be delivered"
    assert needs[0].url == reverse("notices:delivery-list") + "?status=failed"


# --- A developer ---------------------------------------------------------------------------------


def test_a_developer_sees_the_notices_awaiting_their_answer_with_deadlines(client, creator):
    labs, other = _developer("Example AI Labs"), _developer("Sample Models")
    dana = factories.UserFactory(email="dana@labs.example")
    factories.DeveloperMemberFactory(developer=labs, user=dana)
    now = timezone.now()
    late = Notice.objects.create(
        developer=labs,
        topic="t:1",
        key="k1",
        subject="Late one",
        text="T",
        answer_due_at=now - timedelta(days=3),
    )
    soon = Notice.objects.create(
        developer=labs,
        topic="t:2",
        key="k2",
        subject="Soon one",
        text="T",
        answer_due_at=now + timedelta(days=10),
    )
    done = Notice.objects.create(
        developer=labs,
        topic="t:3",
        key="k3",
        subject="Answered",
        text="T",
        answer_due_at=now + timedelta(days=10),
    )
    answer_record(notice=done, kind="complied", statement="Removed.", via="link")
    acked = Notice.objects.create(
        developer=labs,
        topic="t:4",
        key="k4",
        subject="Acknowledged",
        text="T",
        answer_due_at=now + timedelta(days=20),
    )
    answer_record(notice=acked, kind="acknowledged", statement="Seen.", via="link")
    Notice.objects.create(developer=other, topic="t:5", key="k5", subject="Not theirs", text="T")

    needs, page = _needs(client, dana, "developer:home")

    assert [n.text for n in needs] == [
        "Answer: Late one",
        "Answer: Soon one",
        "Say whether you complied or dispute: Acknowledged",
    ]
    assert [n.url for n in needs] == [
        reverse("answers:developer-notice", args=[n.pk]) for n in (late, soon, acked)
    ]
    assert needs[0].urgent and re.match(r"overdue — was due .* \(3\xa0days ago\)", needs[0].when)
    assert re.match(r"due .* \(in 1\xa0week\)", needs[1].when)
    assert "Not theirs" not in page


# --- Where signing in lands ----------------------------------------------------------------------


def _sign_in(client, user, next_url=""):
    client.logout()
    url = reverse("account_login") + (f"?next={next_url}" if next_url else "")
    response = client.post(url, {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content[:500]
    return response["Location"]


@pytest.fixture
def verified(db):
    from allauth.account.models import EmailAddress

    def _verified(user):
        EmailAddress.objects.get_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        return user

    return _verified


def test_signing_in_lands_each_role_where_their_day_starts(
    client, verified, creator, guild_staff, superuser
):
    dana = factories.UserFactory(email="dana@labs.example")
    factories.DeveloperMemberFactory(developer=_developer("Example AI Labs"), user=dana)

    assert _sign_in(client, verified(creator)) == reverse("portal:dashboard")
    assert _sign_in(client, verified(guild_staff)) == reverse("portal:staff-dashboard")
    assert _sign_in(client, verified(superuser)) == reverse("portal:admin-dashboard")
    # A developer's person passes through the creator's dashboard to their developer home.
    assert _sign_in(client, verified(dana)) == reverse("portal:dashboard")
    assert client.get(reverse("portal:dashboard"))["Location"] == reverse("developer:home")


def test_signing_in_still_honours_next(client, verified, guild_staff):
    assert _sign_in(client, verified(guild_staff), "/works/") == "/works/"
