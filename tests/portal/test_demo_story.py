"""The demo data tells its own story (issue 19): each seeded removal request holds the works its
title speaks of, and the README's description of the demo counts what ``seed_demo`` creates."""

import re
from io import StringIO

import pytest
from django.core.management import call_command

from accounts.models import Guild
from notices.models import AIDeveloper
from removals.models import RemovalRequest
from tests.services import ROOT
from works.models import Work, WorkFile

NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=StringIO())


def _demo_paragraphs() -> str:
    readme = (ROOT / "README.md").read_text()
    start = readme.index("### Demo logins")
    return " ".join(readme[start : readme.index("\n## ", start)].split())


def _number(pattern: str, text: str) -> int:
    match = re.search(pattern, text)
    assert match, f"the README no longer says {pattern!r}"
    return NUMBERS[match.group(1)]


def test_the_poems_draft_holds_the_poem_and_the_screenplay_request_the_screenplay(demo):
    ada = RemovalRequest.objects.filter(creator__email="ada@demo.example")

    poems = ada.get(title="Poems in chatbots")
    assert poems.status == RemovalRequest.Status.DRAFT
    assert [(w.title, w.kind) for w in poems.works.all()] == [("Low Tide", "poem")]
    assert "Low Tide" in poems.where_used

    screenplay = ada.get(title="Screenplay scraped from my site")
    assert screenplay.status == RemovalRequest.Status.SUBMITTED
    assert [(w.title, w.kind) for w in screenplay.works.all()] == [
        ("Harbour Lights (screenplay)", "script")
    ]

    novels = ada.get(title="My novels in training datasets")
    assert {w.kind for w in novels.works.all()} == {"book"} and novels.works.count() == 2


def test_the_readme_counts_what_the_demo_creates(demo):
    text = _demo_paragraphs()
    ada = Work.objects.filter(owner__email="ada@demo.example")
    ben = Work.objects.filter(owner__email="ben@demo.example")

    assert _number(r"Ada has (\w+) works", text) == ada.count()
    assert _number(r"Ada has \w+ works and Ben (\w+)", text) == ben.count()
    assert _number(r"(\w+) have generated images", text) == WorkFile.objects.count()
    assert _number(r"(\w+) of Ada's claims are verified", text) == (
        ada.filter(claim_state=Work.Claim.VERIFIED).count()
    )
    assert _number(r"and (\w+) awaits the Writers' Guild staff", text) == (
        ada.filter(claim_requested_at__isnull=False).exclude(claim_state="verified").count()
    )
    assert _number(r"Ada also has (\w+) removal requests", text) == (
        RemovalRequest.objects.filter(creator__email="ada@demo.example").count()
    )
    assert _number(r"(\w+) fictional AI developers", text) == AIDeveloper.objects.count()
    for guild in Guild.objects.all():
        assert guild.name in text, guild.name
    for title in ("Poems in chatbots", "Low Tide", "Screenplay scraped from my site"):
        assert f'"{title}"' in text
