"""The consent history: a readable timeline in plain words, and downloads that anyone can check
with a SHA-256 tool — the CSV safe to open in a spreadsheet, the JSON re-hashing to the chain."""

import csv
import hashlib
import io
import json
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from consent import services
from consent.models import LedgerEntry, LicenceGrant
from tests import factories


@pytest.fixture
def labs(db):
    return factories.AIDeveloperFactory(name="Example AI Labs", slug="example-ai-labs")


@pytest.fixture
def book(creator):
    return factories.WorkFactory(owner=creator, title="The Quiet Harbour", kind="book")


def _page(client, user):
    client.force_login(user)
    return client.get(reverse("consent:history")).content.decode()


def _grant(creator, labs, **fields):
    return services.grant_create(
        actor=creator,
        owner=creator,
        developer=labs,
        uses=fields.pop("uses", ["train-genai"]),
        licence_ref=fields.pop("licence_ref", "LIC-42"),
        starts_on=fields.pop("starts_on", date(2027, 1, 1)),
        ends_on=fields.pop("ends_on", date(2027, 12, 31)),
        **fields,
    )


# --- Plain words -------------------------------------------------------------------------------


def test_a_default_change(client, creator):
    services.defaults_set(actor=creator, owner=creator, choices={"train-genai": "licence"})
    assert (
        "You changed your default for training generative AI from the built-in default "
        "(not allowed) to only under licence." in _page(client, creator)
    )


def test_a_second_default_change_names_the_previous_choice(client, creator):
    services.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    services.defaults_set(actor=creator, owner=creator, choices={"search": "licence"})
    assert (
        "You changed your default for search indexing from not allowed to only under licence."
        in _page(client, creator)
    )


def test_a_works_choice(client, creator, book):
    services.override_set(actor=creator, work=book, choices={"train-ai": "licence"})
    services.override_set(actor=creator, work=book, choices={"train-ai": None})
    page = _page(client, creator)
    assert (
        "You changed the choices for “The Quiet Harbour”: training any AI model from following "
        "your default to only under licence." in page
    )
    assert "training any AI model from only under licence to following your default." in page


def test_a_bulk_apply(client, creator):
    works = [factories.WorkFactory(owner=creator) for _ in range(3)]
    services.bulk_apply(actor=creator, owner=creator, works=works, use="style", choice="deny")
    services.bulk_apply(actor=creator, owner=creator, works=works, use="style", choice=None)
    page = _page(client, creator)
    assert (
        "You set imitating your style, voice or likeness to not allowed for 3 works at once."
        in page
    )
    assert "You made 3 works follow your default for imitating your style" in page


def test_a_credit_change(client, creator):
    services.credit_set(
        actor=creator, owner=creator, credit_line="© Alice", attribution_required=False
    )
    page = _page(client, creator)
    assert "You changed how you are credited:" in page
    assert "credit line from (empty) to “© Alice”" in page
    assert "attribution required from yes to no" in page


def test_a_grant_its_start_its_end_and_its_revocation(client, creator, labs):
    grant = _grant(creator, labs)
    services.grant_periods_record(today=date(2027, 1, 1))
    services.grant_periods_record(today=date(2028, 1, 1))
    other = _grant(creator, labs, licence_ref="LIC-43", uses=["train-ai", "search"], ends_on=None)
    services.grant_revoke(actor=creator, grant=other)
    page = _page(client, creator)
    assert (
        "You granted Example AI Labs a licence (LIC-42) for training generative AI on all your "
        "works, from 1 Jan 2027 to 31 Dec 2027." in page
    )
    assert "The licence LIC-42 of Example AI Labs came into force." in page
    assert "The licence LIC-42 of Example AI Labs ended." in page
    assert (
        "You granted Example AI Labs a licence (LIC-43) for search indexing and training any AI "
        "model on all your works, from 1 Jan 2027, with no end date." in page
    )
    assert "You revoked the licence LIC-43 of Example AI Labs." in page
    assert grant.licence_ref == "LIC-42"


def test_staff_acting_under_a_mandate_are_named_with_their_guild(client, creator, wggb):
    staff = factories.CreatorProfileFactory(display_name="Wendy Staff").user
    factories.StaffAppointmentFactory(user=staff, guild=wggb)
    services.mandate_grant(creator=creator, guild=wggb)
    services.defaults_set(actor=staff, owner=creator, choices={"style": "licence"})
    assert (
        "Wendy Staff (Writers&#x27; Guild of Great Britain), under your mandate, changed your "
        "default for imitating your style, voice or likeness" in _page(client, creator)
    )


def test_each_entry_shows_its_number_date_and_full_hash(client, creator):
    entry = services.defaults_set(actor=creator, owner=creator, choices={"style": "licence"})
    page = _page(client, creator)
    assert f'<code class="hash">{entry.hash}</code>' in page
    assert "Entry 1" in page
    assert "sha256sum" in page


def test_a_creator_sees_only_their_own_history(client, creator, other_creator):
    services.defaults_set(actor=other_creator, owner=other_creator, choices={"style": "allow"})
    page = _page(client, creator)
    assert "No changes yet" in page
    for name in ["consent:history-csv", "consent:history-json"]:
        body = b"".join(client.get(reverse(name)).streaming_content).decode()
        assert "style" not in body


def test_the_history_page_runs_a_constant_number_of_queries(client, creator, wggb, labs):
    staff = factories.UserFactory()
    factories.StaffAppointmentFactory(user=staff, guild=wggb)
    services.mandate_grant(creator=creator, guild=wggb)
    client.force_login(creator)
    url = reverse("consent:history")

    def changes(n):
        for i in range(n):
            services.defaults_set(
                actor=staff if i % 2 else creator,
                owner=creator,
                choices={"style": ["allow", "deny", "licence"][i % 3]},
            )
            _grant(creator, labs, licence_ref=f"LIC-{i}")

    changes(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    changes(20)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)


def test_the_history_is_paginated(client, creator):
    for i in range(55):
        services.defaults_set(
            actor=creator, owner=creator, choices={"style": ["allow", "deny"][i % 2]}
        )
    client.force_login(creator)
    page = client.get(reverse("consent:history"), {"page": 2}).content.decode()
    assert "Entry 5<" in page and "Entry 55<" not in page


def test_every_page_of_the_history_shows_the_chains_length_and_head(client, creator):
    """The head — how many entries and the latest fingerprint — is what they compare with their
    latest receipt; it stays in view on every page, not only beside the newest entry."""
    for i in range(55):
        services.defaults_set(
            actor=creator, owner=creator, choices={"style": ["allow", "deny"][i % 2]}
        )
    head = LedgerEntry.objects.order_by("-seq").first()
    client.force_login(creator)
    page = client.get(reverse("consent:history"), {"page": 2}).content.decode()
    assert "55 entries" in page
    assert f'<code class="hash" id="head-hash">{head.hash}</code>' in page


# --- Downloads ---------------------------------------------------------------------------------


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    for name in ["consent:history-csv", "consent:history-json"]:
        assert client.get(reverse(name))["Location"].startswith(reverse("account_login"))


def test_the_csv_is_safe_to_open_in_a_spreadsheet(client, creator, labs):
    _grant(creator, labs, licence_ref='=HYPERLINK("https://evil.example","x")')
    services.credit_set(actor=creator, owner=creator, credit_line="@SUM(1+1)")
    client.force_login(creator)
    response = client.get(reverse("consent:history-csv"))
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        "seq",
        "time",
        "action",
        "summary",
        "scope",
        "licence",
        "before",
        "after",
        "actor",
        "prev_hash",
        "hash",
        "canonical",
    ]
    assert rows[0]["licence"] == '\'=HYPERLINK("https://evil.example","x")'
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@"))
    # The canonical text is untouched, and re-hashes to the stored hash.
    for row in rows:
        digest = hashlib.sha256(f"{row['prev_hash']}\n{row['canonical']}".encode()).hexdigest()
        assert digest == row["hash"]


def test_the_json_download_rehashes_to_the_stored_hashes(client, creator, book, labs):
    services.defaults_set(actor=creator, owner=creator, choices={"train-genai": "licence"})
    services.override_set(actor=creator, work=book, choices={"search": "deny"})
    services.credit_set(actor=creator, owner=creator, credit_line="Ada “Quill” — ©")
    _grant(creator, labs)
    client.force_login(creator)
    response = client.get(reverse("consent:history-json"))
    assert response["Content-Type"].startswith("application/json")
    export = json.loads(b"".join(response.streaming_content))
    assert export["chain"] == str(creator.ref) and export["length"] == 4
    prev = "0" * 64
    for seq, item in enumerate(export["entries"], start=1):
        assert item["seq"] == seq and item["prev_hash"] == prev
        assert (
            hashlib.sha256((prev + "\n" + item["canonical"]).encode()).hexdigest() == item["hash"]
        )
        prev = item["hash"]
    assert prev == export["head_hash"]
    stored = list(LedgerEntry.objects.order_by("seq").values_list("hash", flat=True))
    assert [item["hash"] for item in export["entries"]] == stored


def test_an_empty_history_downloads_as_valid_json(client, creator):
    client.force_login(creator)
    export = json.loads(b"".join(client.get(reverse("consent:history-json")).streaming_content))
    assert export["entries"] == [] and export["length"] == 0


def test_downloads_stream_in_chunks(client, creator, monkeypatch):
    from consent.views import history

    monkeypatch.setattr(history, "CHUNK", 2)
    for i in range(5):
        services.defaults_set(
            actor=creator, owner=creator, choices={"style": ["allow", "deny"][i % 2]}
        )
    client.force_login(creator)
    export = json.loads(b"".join(client.get(reverse("consent:history-json")).streaming_content))
    assert [e["seq"] for e in export["entries"]] == [1, 2, 3, 4, 5]
    rows = b"".join(client.get(reverse("consent:history-csv")).streaming_content).decode()
    assert len(list(csv.reader(io.StringIO(rows.lstrip("\ufeff"))))) == 6


def test_a_grant_recorded_by_the_portal_is_said_plainly(client, creator, labs):
    today = timezone.localdate()
    _grant(creator, labs, starts_on=today + timedelta(days=1), ends_on=None)
    LicenceGrant.objects.update(starts_on=today)
    services.grant_periods_record()
    page = _page(client, creator)
    assert "The licence LIC-42 of Example AI Labs came into force." in page
