"""A creator's names kept folded (``CreatorName``): credit name, display name and each
pseudonym, in step with every change to the profile — what a disclosure's author column is
matched against."""

import importlib
from http import HTTPStatus

from django.apps import apps
from django.urls import reverse

from accounts import services
from accounts.models import AuditEvent, CreatorName, CreatorProfile
from tests import factories

fill = importlib.import_module("accounts.migrations.0005_fill_creator_names")


def names(user) -> set[str]:
    return set(CreatorName.objects.filter(profile__user=user).values_list("name_folded", flat=True))


def test_names_saved_on_the_profile_page_are_kept_folded(client, creator):
    assert names(creator) == {"alice author"}
    client.force_login(creator)
    response = client.post(
        reverse("accounts:profile"),
        {
            "display_name": "Alice Ørsted",
            "credit_name": "A. Ørsted",
            "pseudonyms": "Ælfrida Quill\n\n  Þóra  \nælfrida QUILL",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert names(creator) == {"alice orsted", "a orsted", "aelfrida quill", "thora"}
    assert AuditEvent.objects.filter(action="profile.update", actor=creator).count() == 1

    client.post(reverse("accounts:profile"), {"display_name": "Alice Ørsted", "credit_name": ""})
    assert names(creator) == {"alice orsted"}  # the names removed are gone


def test_a_refused_profile_change_leaves_the_names_as_they_were(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("accounts:profile"),
        {"display_name": "Changed", "pseudonyms": "New Name", "isni": "0000 0001 2103 2684"},
    )
    assert response.status_code == HTTPStatus.OK  # the ISNI's check digit is wrong
    assert names(creator) == {"alice author"}


def test_a_profile_change_that_keeps_the_names_keeps_their_rows(creator):
    profile = creator.creator_profile
    before = set(CreatorName.objects.filter(profile=profile).values_list("pk", flat=True))
    services.profile_update(actor=creator, profile=profile, bio="Poet.")
    assert set(CreatorName.objects.filter(profile=profile).values_list("pk", flat=True)) == before


def test_a_new_account_has_no_names_until_it_gives_some(client, charlie):
    client.force_login(charlie)
    assert client.get(reverse("accounts:profile")).status_code == HTTPStatus.OK
    assert CreatorProfile.objects.filter(user=charlie).exists()
    assert names(charlie) == set()


def test_deleting_the_account_deletes_the_names(creator):
    services.account_delete(actor=creator, user=creator)
    assert not CreatorName.objects.exists()


def test_the_migration_folds_the_names_of_profiles_made_before(db, monkeypatch):
    profiles = [
        factories.CreatorProfileFactory(
            display_name=f"Ørsted {i}", credit_name="Ørsted", pseudonyms=f"Pen {i}\n\nÆ {i}"
        )
        for i in range(3)
    ]
    factories.CreatorProfileFactory(display_name="", credit_name="", pseudonyms="")
    CreatorName.objects.all().delete()
    monkeypatch.setattr(fill, "BATCH", 2)  # several batches

    fill.fill_creator_names(apps, None)
    fill.fill_creator_names(apps, None)  # again: nothing doubled

    assert [names(p.user) for p in profiles] == [
        {f"orsted {i}", "orsted", f"pen {i}", f"ae {i}"} for i in range(3)
    ]
    assert CreatorName.objects.count() == 12
