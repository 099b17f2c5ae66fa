"""Letters to AI developers assume nobody's gender (issue 19): they name the creator and use
the pronouns given in the profile where a pronoun reads naturally, else neutral "they"."""

import json
import re

import pytest

from accounts.models import CreatorProfile, Mandate
from removals import services

GENDERED = re.compile(r"\b(she|her|hers|herself|he|him|his|himself)\b", re.IGNORECASE)


def _give(creator, pronouns):
    CreatorProfile.objects.filter(user=creator).update(pronouns=pronouns)
    creator.refresh_from_db()


def _letter(make_request, guild_staff):
    notices = services.request_approve(actor=guild_staff, request=make_request())
    return notices[0]


def test_letter_for_a_creator_with_no_pronouns_names_them_and_says_their(
    make_request, creator, guild_staff
):
    notice = _letter(make_request, guild_staff)

    for text in (notice.text, notice.html):
        assert "Writers' Guild of Great Britain has checked that Alice Author is its member" in (
            text.replace("&#x27;", "'")
        )
        assert "verified their claims to these works" in text
        assert "Alice Author states in good faith" in text
        assert "not authorised by them, their agent or the law" in text
        assert not GENDERED.search(text), GENDERED.search(text)


def test_letter_for_a_creator_who_gave_he_him_says_his(make_request, creator, guild_staff):
    _give(creator, "he/him")

    notice = _letter(make_request, guild_staff)

    for text in (notice.text, notice.html):
        assert "verified his claims to these works" in text
        assert "not authorised by him, his agent or the law" in text
        assert not re.search(r"\b(she|her|hers|their|theirs)\b", text)


def test_letter_for_a_creator_who_gave_she_her_says_her(make_request, creator, guild_staff):
    _give(creator, "she/her")

    notice = _letter(make_request, guild_staff)

    assert "verified her claims to these works" in notice.text
    assert "not authorised by her, her agent or the law" in notice.text
    assert not re.search(r"\b(he|him|his|their|theirs)\b", notice.text)


def test_letter_for_unrecognised_pronouns_falls_back_to_they(make_request, creator, guild_staff):
    _give(creator, "any/all")

    notice = _letter(make_request, guild_staff)

    assert "verified their claims" in notice.text
    assert "any/all" not in notice.text


def test_letter_as_agent_uses_the_creators_pronouns_for_the_mandate(
    make_request, creator, guild_staff, wggb
):
    _give(creator, "ze/zir")
    Mandate.objects.create(creator=creator, guild=wggb)

    notice = _letter(make_request, guild_staff)

    assert "agent of its member Alice Author, under zir mandate" in notice.text


def test_letter_for_a_creator_without_a_name_says_the_creator(make_request, creator, guild_staff):
    CreatorProfile.objects.filter(user=creator).update(display_name="", credit_name="")

    notice = _letter(make_request, guild_staff)

    assert "\nThe creator writes to you about 2 works" in notice.text
    assert "has checked that the creator is its member" in notice.text
    assert "Statements: the creator states in good faith" in notice.text
    request_json = json.loads(bytes(notice.attachments.get(filename="request.json").content))
    assert request_json["asked_by"]["creator"] == "The creator"


@pytest.mark.parametrize(("pronouns", "expected"), [("he/him", "His reason"), ("", "Their reason")])
def test_retraction_names_the_creator_and_uses_their_pronouns(
    make_request, creator, guild_staff, pronouns, expected
):
    _give(creator, pronouns)
    request = make_request()
    services.request_approve(actor=guild_staff, request=request)

    retractions = services.request_retract(actor=creator, request=request, reason="Settled.")

    text = retractions[0].text
    assert "Alice Author has retracted removal request" in text
    assert f"{expected}: Settled." in text


def test_default_legal_wording_assumes_no_gender():
    from removals.letters import DEFAULT_LEGAL_BASIS

    assert not GENDERED.search(DEFAULT_LEGAL_BASIS)
    assert "The creator has not given you permission" in DEFAULT_LEGAL_BASIS
