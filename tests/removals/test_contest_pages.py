"""Issue 20, the pages: the creator sees a developer's "complied" with the date to contest it
by, accepts or contests it; their guild's staff see the request back in the queue as
contested and ask the developer again; the developer reads the follow-up on its notice page.
Everyone else gets 404 (or 403 without a staff role, a sign-in page when signed out)."""

from datetime import timedelta
from http import HTTPStatus

import pytest
from django.urls import reverse
from django.utils import timezone

from notices.models import Notice
from notices.services import answer_record
from removals import contests, services
from removals.models import ComplianceContest, RemovalRequest

Status = RemovalRequest.Status


@pytest.fixture
def complied(make_request, guild_staff):
    """An approved request: Example AI complied, Other Models disputed."""
    request = make_request()
    first, second = services.request_approve(actor=guild_staff, request=request)
    answer, _ = answer_record(
        notice=first, kind="complied", statement="Removed from v4.", via="link"
    )
    answer_record(notice=second, kind="disputed", statement="Licensed.", via="link")
    request.refresh_from_db()
    return request, answer.compliance_contest


def _urls(request, contest):
    return {
        "accept": reverse("removals:compliance-accept", args=[request.pk, contest.pk]),
        "contest": reverse("removals:compliance-contest", args=[request.pk, contest.pk]),
        "ask": reverse("removals-staff:ask-again", args=[request.pk, contest.pk]),
    }


def test_the_creator_sees_the_date_to_accept_or_contest_by(client, creator, complied):
    request, contest = complied
    client.force_login(creator)
    page = client.get(request.get_absolute_url()).content.decode()
    answered = f"{timezone.localtime(contest.answer.created_at):%-d %B %Y}"
    by = f"{timezone.localtime(contest.window_ends_at):%-d %B %Y}"
    assert "Example AI Ltd reported they complied on" in page
    assert answered in page and "Accept, or contest by" in page and by in page
    assert "Accept Example AI Ltd's answer" in page
    assert _urls(request, contest)["contest"] in page


def test_accepting_closes_the_request_when_all_are_settled(client, creator, complied):
    request, contest = complied
    client.force_login(creator)
    response = client.post(_urls(request, contest)["accept"], follow=True)
    assert "You accepted Example AI Ltd" in response.content.decode()
    assert "the request is closed" in response.content.decode()
    request.refresh_from_db()
    assert request.status == Status.CLOSED


def test_contest_with_an_empty_reason_is_refused_and_changes_nothing(client, creator, complied):
    request, contest = complied
    client.force_login(creator)
    response = client.post(_urls(request, contest)["contest"], {"reason": "  "})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    page = response.content.decode()
    assert "There is a problem" in page and "Say why you contest it" in page
    assert 'aria-describedby="id_reason_error' in page or "id_reason_error" in page
    contest.refresh_from_db()
    request.refresh_from_db()
    assert contest.state == ComplianceContest.State.OPEN and request.status == Status.APPROVED


def test_contesting_puts_the_request_in_the_staff_queue_as_contested(
    client, creator, guild_staff, complied
):
    request, contest = complied
    client.force_login(creator)
    response = client.post(
        _urls(request, contest)["contest"], {"reason": "The model still quotes chapter 3."}
    )
    assert response.status_code == HTTPStatus.FOUND
    page = client.get(request.get_absolute_url()).content.decode()
    assert "You contested Example AI Ltd" in page and "The model still quotes chapter 3." in page

    client.force_login(guild_staff)
    queue = client.get(reverse("removals-staff:queue")).content.decode()
    assert "Contested" in queue and reverse("removals-staff:review", args=[request.pk]) in queue
    review = client.get(reverse("removals-staff:review", args=[request.pk])).content.decode()
    assert "The model still quotes chapter 3." in review and "Ask Example AI Ltd again" in review

    response = client.post(_urls(request, contest)["ask"], {"note": "Check v5 too."}, follow=True)
    assert "Example AI Ltd is asked again" in response.content.decode()
    contest.refresh_from_db()
    follow_up = contest.follow_up
    assert follow_up is not None and "Check v5 too." in follow_up.text
    request.refresh_from_db()
    assert request.status == Status.APPROVED


def test_the_developer_reads_the_contest_on_its_follow_up_notice(
    client, creator, guild_staff, complied, developer_user_for, developer
):
    request, contest = complied
    contests.compliance_contest(actor=creator, contest=contest, reason="Still in the dataset.")
    notice = contests.compliance_ask_again(actor=guild_staff, contest=contest)
    client.force_login(developer_user_for(developer))
    page = client.get(reverse("answers:developer-notice", args=[notice.pk])).content.decode()
    assert "your answer is contested" in page
    assert "Still in the dataset." in page
    # Nothing of the creator's beyond what the first notice said: not their email address.
    assert creator.email not in page


def test_after_the_window_the_contest_page_says_so_and_changes_nothing(client, creator, complied):
    request, contest = complied
    ComplianceContest.objects.filter(pk=contest.pk).update(
        window_ends_at=timezone.now() - timedelta(minutes=1)
    )
    client.force_login(creator)
    response = client.post(_urls(request, contest)["contest"], {"reason": "Late."}, follow=True)
    assert "The time to contest Example AI Ltd" in response.content.decode()
    contest.refresh_from_db()
    assert contest.state == ComplianceContest.State.OPEN and contest.reason == ""


def test_nobody_else_accepts_or_contests(
    client, complied, other_creator, guild_staff, superuser, developer_user_for, developer
):
    request, contest = complied
    urls = _urls(request, contest)
    for intruder in (other_creator, guild_staff, superuser, developer_user_for(developer)):
        client.force_login(intruder)
        assert client.post(urls["accept"]).status_code == HTTPStatus.NOT_FOUND
        assert client.get(urls["contest"]).status_code == HTTPStatus.NOT_FOUND
        assert client.post(urls["contest"], {"reason": "x"}).status_code == HTTPStatus.NOT_FOUND
    client.logout()
    assert client.post(urls["accept"]).status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in client.post(urls["contest"], {"reason": "x"})["Location"]
    contest.refresh_from_db()
    assert contest.state == ComplianceContest.State.OPEN


def test_another_requests_contest_is_404(client, creator, complied, make_request):
    request, contest = complied
    other = make_request()
    client.force_login(creator)
    url = reverse("removals:compliance-accept", args=[other.pk, contest.pk])
    assert client.post(url).status_code == HTTPStatus.NOT_FOUND


def test_only_their_guilds_staff_ask_again(
    client, creator, complied, other_guild_staff, developer_user_for, developer
):
    request, contest = complied
    contests.compliance_contest(actor=creator, contest=contest, reason="Still there.")
    url = _urls(request, contest)["ask"]
    client.force_login(other_guild_staff)
    assert client.post(url).status_code == HTTPStatus.NOT_FOUND
    for no_staff_role in (creator, developer_user_for(developer)):
        client.force_login(no_staff_role)
        assert client.post(url).status_code == HTTPStatus.FORBIDDEN
    client.logout()
    assert client.post(url).status_code == HTTPStatus.FOUND
    assert Notice.objects.filter(topic=request.topic).count() == 2


def test_a_contested_request_still_counts_as_sent_on_their_dashboard(creator, complied):
    from removals.selectors import counts_for_creator

    request, contest = complied
    contests.compliance_contest(actor=creator, contest=contest, reason="Still there.")
    assert counts_for_creator(creator)["with_developers"] == 1
