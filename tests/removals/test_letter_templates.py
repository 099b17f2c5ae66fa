"""The legal wording of removal notices: superusers edit the portal's default, guild staff their
own guild's; every edit is audited; empty text is refused; the next approval's letter uses the
guild's wording (or the portal's when the guild has none)."""

from html import unescape
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from accounts.models import AuditEvent
from notices.models import Notice
from removals import letter_templates, services
from removals.letters import DEFAULT_LEGAL_BASIS
from removals.models import LetterTemplate
from tests import factories

LETTER = reverse("removals-staff:letter")


def _audits():
    return AuditEvent.objects.filter(action__startswith="removal.legal_wording")


# --- Superusers: the portal's default ----------------------------------------------------------


def test_superuser_starts_from_the_built_in_wording_and_saves_the_default(client, superuser):
    client.force_login(superuser)

    page = unescape(client.get(LETTER).content.decode())
    assert "The portal's default wording" in page
    assert "Copyright, Designs and Patents Act 1988" in page

    response = client.post(
        LETTER, {"guild": "default", "legal_basis": "Portal words: UK law applies."}, follow=True
    )

    assert "legal wording is saved" in response.content.decode()
    template = LetterTemplate.objects.get(scope="default")
    assert template.legal_basis == "Portal words: UK law applies."
    assert template.guild is None and template.updated_by == superuser
    event = _audits().get()
    assert event.actor == superuser
    assert event.before is None
    assert event.after == {"scope": "default", "legal_basis": "Portal words: UK law applies."}


def test_a_change_records_the_words_before_and_after(superuser):
    letter_templates.legal_wording_set(actor=superuser, text="First words.")
    letter_templates.legal_wording_set(actor=superuser, text="Second words.")
    latest = _audits().order_by("-pk").first()
    assert latest.before["legal_basis"] == "First words."
    assert latest.after["legal_basis"] == "Second words."
    # Saving the same words again changes nothing and records nothing.
    letter_templates.legal_wording_set(actor=superuser, text="Second words.")
    assert _audits().count() == 2


def test_empty_wording_is_refused_and_nothing_changes(client, superuser):
    letter_templates.legal_wording_set(actor=superuser, text="Kept words.")
    client.force_login(superuser)

    response = client.post(LETTER, {"guild": "default", "legal_basis": "   \n  "})

    assert response.status_code == HTTPStatus.OK
    assert "Write the legal wording" in response.content.decode()
    assert LetterTemplate.objects.get(scope="default").legal_basis == "Kept words."
    assert _audits().count() == 1
    with pytest.raises(ValidationError):
        letter_templates.legal_wording_set(actor=superuser, text="")


def test_a_superuser_who_is_no_guilds_staff_cannot_edit_a_guilds_wording(client, superuser, wggb):
    client.force_login(superuser)
    assert client.get(LETTER, {"guild": wggb.pk}).status_code == HTTPStatus.NOT_FOUND
    response = client.post(LETTER, {"guild": wggb.pk, "legal_basis": "Not mine."})
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert not LetterTemplate.objects.filter(guild=wggb).exists()


# --- Guild staff: their own guild's ------------------------------------------------------------


def test_guild_staff_edit_their_own_guilds_wording(client, guild_staff, wggb):
    client.force_login(guild_staff)

    page = unescape(client.get(LETTER).content.decode())
    assert "Writers' Guild of Great Britain's wording" in page
    assert "has no wording of its own" in page

    client.post(LETTER, {"guild": wggb.pk, "legal_basis": "WGGB: our members' rights."})

    template = LetterTemplate.objects.get(scope=f"guild:{wggb.pk}")
    assert template.guild == wggb and template.legal_basis == "WGGB: our members' rights."
    assert _audits().get().actor == guild_staff


def test_guild_staff_cannot_edit_another_guild_or_the_default(client, guild_staff, mu, superuser):
    client.force_login(guild_staff)
    assert client.get(LETTER, {"guild": mu.pk}).status_code == HTTPStatus.NOT_FOUND
    assert client.post(LETTER, {"guild": mu.pk, "legal_basis": "x"}).status_code == 404
    assert client.get(LETTER, {"guild": "default"}).status_code == HTTPStatus.NOT_FOUND
    assert client.post(LETTER, {"guild": "default", "legal_basis": "x"}).status_code == 404
    assert not LetterTemplate.objects.exists()
    with pytest.raises(PermissionDenied):
        letter_templates.legal_wording_set(actor=guild_staff, guild=mu, text="x")
    with pytest.raises(PermissionDenied):
        letter_templates.legal_wording_set(actor=guild_staff, text="x")


def test_staff_of_several_guilds_choose_which(client, guild_staff, wggb, mu):
    factories.StaffAppointmentFactory(user=guild_staff, guild=mu)
    client.force_login(guild_staff)
    page = client.get(LETTER).content.decode()
    assert f"?guild={mu.pk}" in page and f"?guild={wggb.pk}" in page
    client.post(LETTER, {"guild": mu.pk, "legal_basis": "MU words."})
    assert LetterTemplate.objects.get(guild=mu).legal_basis == "MU words."
    assert not LetterTemplate.objects.filter(guild=wggb).exists()


def test_a_guild_goes_back_to_the_portals_wording(client, guild_staff, wggb):
    letter_templates.legal_wording_set(actor=guild_staff, guild=wggb, text="Ours.")
    client.force_login(guild_staff)

    response = client.post(LETTER, {"guild": wggb.pk, "action": "reset"}, follow=True)

    assert "use the portal's wording again" in unescape(response.content.decode())
    assert not LetterTemplate.objects.filter(guild=wggb).exists()
    assert _audits().filter(action="removal.legal_wording_reset", actor=guild_staff).exists()


# --- Who else ----------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(LETTER)
    assert response.status_code == HTTPStatus.FOUND
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("persona", ["creator", "charlie", "registry_manager"])
def test_people_without_the_role_are_refused(client, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(LETTER).status_code == HTTPStatus.FORBIDDEN
    response = client.post(LETTER, {"guild": "default", "legal_basis": "Mine now."})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not LetterTemplate.objects.exists()


def test_a_developers_person_is_refused(client, developer):
    client.force_login(factories.DeveloperMemberFactory(developer=developer).user)
    assert client.get(LETTER).status_code == HTTPStatus.FORBIDDEN


# --- Letters use it ----------------------------------------------------------------------------


def test_a_new_approval_uses_the_guilds_wording(client, guild_staff, wggb, superuser, make_request):
    letter_templates.legal_wording_set(actor=superuser, text="PORTAL DEFAULT WORDS.")
    client.force_login(guild_staff)
    client.post(LETTER, {"guild": wggb.pk, "legal_basis": "WGGB LEGAL WORDS, section 1."})
    obj = make_request()

    preview = client.get(reverse("removals-staff:review", args=[obj.pk])).content.decode()
    assert "WGGB LEGAL WORDS, section 1." in preview
    client.post(reverse("removals-staff:approve", args=[obj.pk]), {})

    notices = Notice.objects.filter(topic=obj.topic, kind=Notice.Kind.NOTICE)
    assert notices.count() == 2
    for notice in notices:
        assert "WGGB LEGAL WORDS, section 1." in notice.text
        assert "PORTAL DEFAULT WORDS." not in notice.text
        assert DEFAULT_LEGAL_BASIS[:40] not in notice.text


def test_without_a_guild_wording_letters_use_the_portals(superuser, guild_staff, make_request):
    letter_templates.legal_wording_set(actor=superuser, text="PORTAL DEFAULT WORDS.")
    obj = make_request()
    services.request_approve(actor=guild_staff, request=obj)
    notice = Notice.objects.filter(topic=obj.topic, kind=Notice.Kind.NOTICE).first()
    assert "PORTAL DEFAULT WORDS." in notice.text
