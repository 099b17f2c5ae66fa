"""The letters name their guild as contact, so replies reach its staff: the staff who moderate a
request open its notices on the engine's staff page and record answers that came by email or
letter. Another guild's staff, and anyone for another request's notices, find nothing."""

from http import HTTPStatus

import pytest
from django.urls import reverse

from notices.models import Notice, NoticeAnswer
from removals import services


@pytest.fixture
def notice(make_request, guild_staff):
    request = make_request()
    services.request_approve(actor=guild_staff, request=request)
    return Notice.objects.filter(topic=request.topic, kind=Notice.Kind.NOTICE).first()


def _record(client, notice):
    return client.post(
        reverse("answers:staff-notice", args=[notice.pk]),
        {
            "kind": "complied",
            "statement": "Their letter of 3 March: removed from the 2026 corpus.",
            "received_by": "Email reply to the guild",
        },
    )


def test_their_guilds_staff_record_an_answer_that_reached_them_by_email(
    client, notice, guild_staff
):
    client.force_login(guild_staff)
    assert client.get(reverse("answers:staff-notice", args=[notice.pk])).status_code == 200

    response = _record(client, notice)

    assert response.status_code == HTTPStatus.FOUND
    answer = NoticeAnswer.objects.get(notice=notice)
    assert answer.by_staff and answer.user == guild_staff
    assert answer.received_by == "Email reply to the guild"
    # And their timeline shows it.
    request_pk = int(notice.topic.split(":")[1])
    assert "Complied" in client.get(reverse("removals-staff:review", args=[request_pk])).text


def test_another_guilds_staff_find_no_such_notice(client, notice, other_guild_staff):
    client.force_login(other_guild_staff)

    assert client.get(reverse("answers:staff-notice", args=[notice.pk])).status_code == 404
    assert _record(client, notice).status_code == 404
    assert not NoticeAnswer.objects.exists()


def test_their_guilds_staff_do_not_open_other_topics(client, guild_staff, developer):
    from notices.services import notice_create

    digest = notice_create(
        developer=developer,
        topic="digest:1:2026-11-25",
        key="digest:1:2026-11-25",
        subject="Digest",
        text="…",
        answerable=False,
    )
    client.force_login(guild_staff)
    assert client.get(reverse("answers:staff-notice", args=[digest.pk])).status_code == 404


# --- Nobody records an answer on their own request ----------------------------------------------


def _own_request_notice(owner, guild_staff, developer, *, filed_by=None):
    from tests import factories

    work = factories.WorkFactory(owner=owner, title="Their own book")
    request = services.draft_create(actor=filed_by or owner, creator=owner, title="Mine")
    services.draft_update(
        actor=filed_by or owner,
        request=request,
        works=[work],
        developers=[developer],
        asks=["cease"],
    )
    services.request_submit(
        actor=filed_by or owner, request=request, good_faith=True, accurate=True
    )
    services.request_approve(actor=guild_staff, request=request)
    return Notice.objects.get(topic=request.topic, kind=Notice.Kind.NOTICE)


@pytest.mark.parametrize("persona", ["registry_manager", "superuser"])
def test_managers_record_no_answer_on_their_own_request(
    request, client, persona, wggb, guild_staff, developer
):
    from django.core.exceptions import PermissionDenied

    from notices.services.answers import answer_record
    from tests import factories

    owner = request.getfixturevalue(persona)
    factories.MembershipFactory(user=owner, guild=wggb, verified=True)
    notice = _own_request_notice(owner, guild_staff, developer)
    client.force_login(owner)

    assert client.get(reverse("answers:staff-notice", args=[notice.pk])).status_code == 404
    assert _record(client, notice).status_code == 404
    with pytest.raises(PermissionDenied):
        answer_record(
            notice=notice,
            kind="complied",
            statement="Removed.",
            via=NoticeAnswer.Via.STAFF,
            user=owner,
            received_by="Email",
        )
    assert not NoticeAnswer.objects.exists()
    # The delivery page they may read (they run the engine) offers them no such link either.
    delivery = notice.deliveries.get()
    page = client.get(reverse("notices:delivery-detail", args=[delivery.pk])).content.decode()
    assert reverse("answers:staff-notice", args=[notice.pk]) not in page


def test_staff_who_filed_it_under_their_mandate_record_no_answer_to_it(
    client, creator, wggb, guild_staff, developer, registry_manager
):
    from accounts.models import Mandate
    from tests import factories

    # A registry manager who is also their guild's staff files for them; a colleague approves.
    factories.StaffAppointmentFactory(user=registry_manager, guild=wggb)
    Mandate.objects.create(creator=creator, guild=wggb)
    notice = _own_request_notice(creator, guild_staff, developer, filed_by=registry_manager)
    client.force_login(registry_manager)

    assert _record(client, notice).status_code == 404
    assert not NoticeAnswer.objects.exists()

    # Anyone else who may, still does: their guild's staff who approved it.
    client.force_login(guild_staff)
    assert _record(client, notice).status_code == HTTPStatus.FOUND
    assert NoticeAnswer.objects.get().user == guild_staff
