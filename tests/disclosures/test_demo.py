"""The demo holds a dataset disclosed by Demo Generative Inc. whose manifest names Ada's and
Ben's works another way — an ISBN with hyphens, a page under Ada's verified site, a re-encoded
copy of Ben's album cover, a title of Ada's with Ada's pseudonym, Ben's ISRC with hyphens — among
unrelated rows: matched at seed time, so Ada has findings to confirm; seeding again adds
nothing."""

from io import StringIO

from django.core.management import call_command

from disclosures.models import Disclosure, Finding


def test_the_demo_disclosure_finds_adas_and_bens_works_and_nothing_else(db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent

    disclosure = Disclosure.objects.get(developer__slug="demo-generative")
    assert disclosure.developer.name == "Demo Generative Inc."
    assert (disclosure.name, disclosure.version) == ("Open Web Images & Text", "2026-11")
    assert disclosure.state == Disclosure.State.DONE, disclosure.error
    assert disclosure.rows_read == 11
    found = {
        (
            f.row,
            f.kind,
            (f.work or f.site).owner.email,
            f.work.title if f.work else f.site.host,
            f.weak,
        )
        for f in Finding.objects.filter(disclosure=disclosure).select_related("work", "site")
    }
    assert found == {
        (2, "isbn", "ada@demo.example", "Salt and Signal", False),
        (5, "site", "ada@demo.example", "ada-quill.demo.example", False),
        (7, "phash", "ben@demo.example", "Album Cover: Northern Lines", False),
        (8, "title", "ada@demo.example", "Low Tide", True),
        (9, "isrc", "ben@demo.example", "Night Bus Home", False),
    }
    assert Finding.objects.filter(state=Finding.State.NEW).count() == 5  # Ada's to confirm
