"""Deleting their account: their personal data goes — account, profile, works, files — while the
consent ledger's hashed entries stay, without their name, and still verify."""

from http import HTTPStatus
from io import StringIO

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse

from accounts.models import AuditEvent, CreatorProfile, GuildMembership, User
from accounts.services import profile_update
from consent import services
from consent.models import LedgerChain, LedgerEntry
from tests import factories
from works.models import ClaimEvidence, Work, WorkFile


@pytest.fixture
def history(creator, wggb):
    """Alice's works, a file, evidence, choices, a licence, a mandate, and an audit trail."""
    labs = factories.AIDeveloperFactory(name="Example AI Labs")
    book = factories.WorkFactory(owner=creator, title="Alice's Secret Diary")
    original = default_storage.save("originals/x/book.pdf", ContentFile(b"%PDF-1.4 alice"))
    thumb = default_storage.save("thumbnails/x/book.jpg", ContentFile(b"jpeg"))
    WorkFile.objects.create(
        work=book,
        status="ready",
        original=original,
        thumbnail=thumb,
        original_name="diary.pdf",
        size=14,
        family="document",
        format="pdf",
        mime="application/pdf",
    )
    evidence = default_storage.save("evidence/x/contract.pdf", ContentFile(b"contract"))
    ClaimEvidence.objects.create(work=book, file=evidence, file_name="contract.pdf")
    services.defaults_set(actor=creator, owner=creator, choices={"train-genai": "licence"})
    services.override_set(actor=creator, work=book, choices={"search": "deny"})
    services.grant_create(
        actor=creator,
        owner=creator,
        developer=labs,
        uses=["train-ai"],
        licence_ref="LIC-42",
        starts_on=book.created_at.date(),
    )
    services.mandate_grant(creator=creator, guild=wggb)
    profile_update(actor=creator, profile=creator.creator_profile, bio="Secret bio")
    return {"book": book, "files": [original, thumb, evidence]}


def _confirm(client, email="alice@example.org", **extra):
    return client.post(reverse("portal:account-delete"), {"email": email}, **extra)


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get(reverse("portal:account-delete"))
    assert response["Location"].startswith(reverse("account_login"))


def test_deleting_asks_for_the_password_again(client, sign_in, creator):
    sign_in(creator, reauthenticate=False)
    response = client.get(reverse("portal:account-delete"))
    assert response["Location"].startswith(reverse("account_reauthenticate"))
    _confirm(client)
    assert User.objects.filter(pk=creator.pk).exists()


def test_the_page_says_what_goes_and_what_stays(client, sign_in, creator):
    sign_in(creator)
    page = client.get(reverse("portal:account-delete")).content.decode()
    assert "What is deleted" in page and "What stays" in page
    assert "consent history stays, without your name" in page


def test_the_dashboard_links_to_it(client, creator):
    client.force_login(creator)
    page = client.get(reverse("portal:dashboard")).content.decode()
    assert reverse("portal:account-delete") in page


@pytest.mark.parametrize("email", ["", "bob@example.org", "not an email"])
def test_a_wrong_email_address_deletes_nothing(client, sign_in, creator, history, email):
    sign_in(creator)
    response = _confirm(client, email=email)
    assert response.status_code == HTTPStatus.OK
    assert 'class="errorlist"' in response.content.decode()
    assert User.objects.filter(pk=creator.pk).exists() and Work.objects.exists()


def test_deleting_removes_their_personal_data_and_the_ledger_still_verifies(
    client, sign_in, creator, guild_staff, history, django_capture_on_commit_callbacks
):
    ref, pk = creator.ref, creator.pk
    chain_hashes = list(LedgerEntry.objects.order_by("seq").values_list("hash", flat=True))
    sign_in(creator)
    with django_capture_on_commit_callbacks(execute=True):
        response = _confirm(client, email="ALICE@example.org ")
    assert response.status_code == HTTPStatus.FOUND and response["Location"] == reverse(
        "portal:home"
    )

    assert not User.objects.filter(pk=pk).exists()
    assert not CreatorProfile.objects.filter(user_id=pk).exists()
    assert not GuildMembership.objects.filter(user_id=pk).exists()
    assert not Work.objects.exists() and not WorkFile.objects.exists()
    for name in history["files"]:
        assert not default_storage.exists(name)

    # The audit log keeps what was done, not who they were.
    assert AuditEvent.objects.filter(actor_label="a deleted account").exists()
    for event in AuditEvent.objects.all():
        text = (
            f"{event.actor_label} {event.object_label} {event.before} {event.after} {event.reason}"
        )
        assert "alice@example.org" not in text and "Alice Author" not in text, event
        assert "Secret" not in text and "Alice's Secret Diary" not in text, event

    # The ledger stays, without their names, and verifies.
    chain = LedgerChain.objects.get(chain_id=ref)
    assert chain.owner is None
    assert list(chain.entries.order_by("seq").values_list("hash", flat=True)) == chain_hashes
    assert not chain.entries.exclude(actor_label="", scope_label="").exists()
    out = StringIO()
    call_command("verify_ledger", stdout=out)

    # They are signed out, and told.
    page = client.get(reverse("portal:home")).content.decode()
    assert "Your account is deleted" in page
    assert client.get(reverse("portal:dashboard")).status_code == HTTPStatus.FOUND


def test_their_name_goes_from_entries_they_wrote_as_staff_for_others(client, sign_in, wggb):
    member = factories.CreatorProfileFactory(display_name="Mia Member").user
    factories.MembershipFactory(user=member, guild=wggb, verified=True)
    staff = factories.CreatorProfileFactory(
        display_name="Sam Staff", user__email="sam@example.org"
    ).user
    factories.StaffAppointmentFactory(user=staff, guild=wggb)
    services.mandate_grant(creator=member, guild=wggb)
    services.defaults_set(actor=staff, owner=member, choices={"style": "allow"})
    sign_in(staff)
    _confirm(client, email="sam@example.org")
    entry = LedgerEntry.objects.get()
    assert entry.actor_label == "" and "Sam Staff" not in entry.canonical
    call_command("verify_ledger", stdout=StringIO())
    client.force_login(member)
    page = client.get(reverse("consent:history")).content.decode()
    assert "Sam Staff" not in page and "whose account was deleted" in page


def test_other_creators_keep_everything(client, sign_in, creator, other_creator, history):
    theirs = factories.WorkFactory(owner=other_creator)
    services.defaults_set(actor=other_creator, owner=other_creator, choices={"style": "allow"})
    sign_in(creator)
    _confirm(client)
    assert Work.objects.filter(pk=theirs.pk).exists()
    assert LedgerEntry.objects.filter(chain__owner=other_creator).exclude(actor_label="").exists()
