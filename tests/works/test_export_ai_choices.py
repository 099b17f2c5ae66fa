"""Issue 19: the catalogue export carries each work's effective AI choice per use — the work's
own choice, else the creator's default, else the portal's — exactly as ``consent.decisions``
decides it for any developer (what the work's public page and signals say)."""

import csv
import io
import json

from django.urls import reverse

from consent import services as consent_services
from consent.decisions import decisions_for_works
from consent.vocabulary import USES
from tests import factories
from works.models import Work

AI_COLUMNS = ["ai_train_genai", "ai_train_ai", "ai_ai_input", "ai_search", "ai_style"]


def _csv(client) -> dict[str, dict]:
    response = client.get(reverse("works:export-csv"))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return {row["title"]: row for row in csv.DictReader(io.StringIO(text))}


def _json(client) -> dict[str, dict]:
    response = client.get(reverse("works:export-json"))
    document = json.loads(b"".join(response.streaming_content))
    return {item["title"]: item for item in document["works"]}


def test_each_work_carries_its_effective_choice_per_use(client, creator):
    consent_services.defaults_set(
        actor=creator, owner=creator, choices={"train-ai": "licence", "style": "allow"}
    )
    untouched = factories.WorkFactory(owner=creator, title="Untouched")
    own = factories.WorkFactory(owner=creator, title="Own choices")
    consent_services.override_set(
        actor=creator,
        work=own,
        choices={"train-genai": "allow", "train-ai": "allow", "search": "deny"},
    )
    held = factories.WorkFactory(owner=creator, title="Held back")
    consent_services.override_set(actor=creator, work=held, choices={"train-genai": "allow"})
    client.force_login(creator)

    expected = {
        # the portal's defaults, but the creator's own defaults for train-ai and style
        "Untouched": ["deny", "licence", "deny", "allow", "allow"],
        "Own choices": ["allow", "allow", "deny", "deny", "allow"],
        # its own "allow" for generative training, held back to licence by train-ai's
        "Held back": ["licence", "licence", "deny", "allow", "allow"],
    }
    for rows in (_csv(client), _json(client)):
        assert {title: [row[c] for c in AI_COLUMNS] for title, row in rows.items()} == expected
        assert list(rows["Untouched"])[-5:] == AI_COLUMNS

    decided = decisions_for_works([untouched, own, held])  # the one rule, asked directly
    rows = _csv(client)
    for work in (untouched, own, held):
        assert [rows[work.title][c] for c in AI_COLUMNS] == [
            decided[work.pk][use].choice for use in USES
        ]


def test_a_licence_granted_to_one_developer_is_not_what_everyone_is_told(client, creator):
    """The export says what holds for any developer, as the public page does: a grant to one
    developer is that developer's exception."""
    work = factories.WorkFactory(owner=creator, title="Granted")
    developer = factories.AIDeveloperFactory()
    consent_services.grant_create(
        actor=creator,
        owner=creator,
        developer=developer,
        uses=["train-ai"],
        licence_ref="LIC-42",
        starts_on=work.created_at.date(),
    )
    client.force_login(creator)
    assert _csv(client)["Granted"]["ai_train_ai"] == "deny"


def test_works_of_another_creator_are_not_exported(client, creator, other_creator):
    factories.WorkFactory(owner=other_creator, title="Bob's")
    factories.WorkFactory(owner=creator, title="Alice's", status=Work.Status.ARCHIVED)
    client.force_login(creator)
    assert list(_csv(client)) == ["Alice's"]
