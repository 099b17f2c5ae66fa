"""Pronouns in the creator profile (issue 19): the pure helper that reads them, and the field
through the real profile form — kept trimmed, bad input refused with nothing saved."""

from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import AuditEvent, CreatorProfile
from accounts.pronouns import (
    THEY,
    normalise_pronouns,
    pronouns_for,
    pronouns_or_they,
    validate_pronouns,
)

# --- The helper ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "subject", "object_", "possessive"),
    [
        ("she/her", "she", "her", "her"),
        ("She / Her", "she", "her", "her"),
        ("she/her/hers", "she", "her", "her"),
        ("he/him", "he", "him", "his"),
        ("he/his", "he", "him", "his"),
        ("HE", "he", "him", "his"),
        ("they/them", "they", "them", "their"),
        ("they", "they", "them", "their"),
        ("ze/zir", "ze", "zir", "zir"),
        ("ze/hir", "ze", "hir", "hir"),
        ("ze", "ze", "zir", "zir"),
        ("xe/xem", "xe", "xem", "xyr"),
        ("she/they", "she", "her", "her"),  # either is welcome: the first given is used
        ("he, him", "he", "him", "his"),
    ],
)
def test_recognised_pronouns_give_subject_object_and_possessive(
    given, subject, object_, possessive
):
    found = pronouns_for(given)
    assert (found.subject, found.object, found.possessive) == (subject, object_, possessive)


@pytest.mark.parametrize("given", ["", None, "   ", "any", "any/all", "it/its", "her/she", "e/em"])
def test_unrecognised_or_missing_pronouns_fall_back_to_they(given):
    assert pronouns_for(given) is None
    assert pronouns_or_they(given) == THEY
    assert (THEY.subject, THEY.object, THEY.possessive) == ("they", "them", "their")


def test_they_takes_a_plural_verb_and_the_others_do_not():
    assert pronouns_or_they("they/them").plural_verb
    assert not pronouns_or_they("he/him").plural_verb
    assert not pronouns_or_they("she/her").plural_verb


def test_pronouns_are_trimmed_and_inner_spaces_made_one():
    assert normalise_pronouns("  they   /  them ") == "they / them"
    assert normalise_pronouns(None) == ""


@pytest.mark.parametrize(
    "good", ["she/her", "they/them", "ze/zir", "he/him (his)", "iel", "ona/jej", "they’re fine"]
)
def test_pronouns_written_with_letters_and_slashes_are_valid(good):
    validate_pronouns(good)


@pytest.mark.parametrize(
    ("bad", "code"),
    [
        ("<b>she</b>", "pronouns_characters"),
        ("he/him<script>", "pronouns_characters"),
        ('she"/her', "pronouns_characters"),
        ("they & them", "pronouns_characters"),
        ("she/her 2", "pronouns_characters"),
        ("/her", "pronouns_characters"),
        ("a" + "/" * 38 + "<", "pronouns_characters"),  # refused at once, not backtracked
        ("they/them/" * 5, "pronouns_length"),
    ],
)
def test_pronouns_with_markup_digits_or_too_long_are_refused(bad, code):
    with pytest.raises(ValidationError) as caught:
        validate_pronouns(bad)
    assert caught.value.code == code


# --- Through the profile page -------------------------------------------------------------------


def _post(client, **fields):
    data = {"display_name": "Alice Author", "credit_name": "Alice Author", **fields}
    return client.post(reverse("accounts:profile"), data)


def test_creator_gives_pronouns_and_sees_them_on_the_profile_and_dashboard(client, creator):
    client.force_login(creator)

    response = _post(client, pronouns="  they /  them ")

    assert response.status_code == HTTPStatus.FOUND
    profile = CreatorProfile.objects.get(user=creator)
    assert profile.pronouns == "they / them"
    assert profile.pronoun_set == THEY
    page = client.get(reverse("accounts:profile")).content.decode()
    assert 'name="pronouns"' in page and 'value="they / them"' in page
    assert "<dt>Pronouns</dt>" in client.get(reverse("portal:dashboard")).content.decode()
    audit = AuditEvent.objects.filter(action="profile.update").latest("pk")
    assert audit.before["pronouns"] == "" and audit.after["pronouns"] == "they / them"


def test_creator_clears_pronouns(client, creator):
    CreatorProfile.objects.filter(user=creator).update(pronouns="he/him")
    client.force_login(creator)

    assert _post(client, pronouns="").status_code == HTTPStatus.FOUND

    assert CreatorProfile.objects.get(user=creator).pronouns == ""


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("<em>she</em>", "letters, spaces and slashes only"),
        ("x" * 41, "at most 40 characters"),
    ],
)
def test_bad_pronouns_are_explained_next_to_the_field_and_nothing_is_saved(
    client, creator, bad, message
):
    CreatorProfile.objects.filter(user=creator).update(pronouns="she/her")
    client.force_login(creator)

    response = _post(client, pronouns=bad, display_name="Changed")

    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    assert message in page
    assert 'id="id_pronouns"' in page and 'aria-invalid="true"' in page
    assert "<em>she</em>" not in page
    profile = CreatorProfile.objects.get(user=creator)
    assert (profile.pronouns, profile.display_name) == ("she/her", "Alice Author")
