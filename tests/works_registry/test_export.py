"""The registry export (works_registry.export): what the file holds, how builds are asked for,
claimed, swapped in and retried. The endpoints and pages are test_export_views.py."""

import gzip
import json
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from consent import services as consent
from tests import factories
from tests.works_registry.test_changes import licence
from tests.works_registry.test_sites_lookup import verified_site
from works import services as works
from works.models import Work
from works_registry import changes, export, sites_services
from works_registry.export_models import RegistryExport
from works_registry.lookup import work_objects

State = RegistryExport.State


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")


def read_export(found: RegistryExport) -> tuple[dict, list[dict]]:
    """The header and the entries of an export's file."""
    with default_storage.open(found.file.name, "rb") as raw, gzip.open(raw, "rt") as text:
        lines = [json.loads(line) for line in text]
    return lines[0], lines[1:]


def built(developer) -> RegistryExport:
    asked = export.export_request(developer=developer)
    result = export.export_build(export_id=asked.pk)
    assert result is not None
    return result


def test_an_export_holds_every_work_with_the_developers_answers(creator, other_creator, developer):
    mine = works.work_create(owner=creator, title="The Long Shore", kind="book")
    works.work_create(owner=other_creator, title="Bass Lines", kind="composition")
    licence(creator, developer, "LIC-1", works=[mine])

    site = verified_site(creator, "https://ada.example/")
    verified_site(other_creator, "https://bob.example/")
    sites_services.site_suspend(site=site, now=timezone.now(), reason="The token is gone.")
    bobs = verified_site(other_creator, "https://bass.example/")

    found = built(developer)
    header, entries = read_export(found)

    assert header["format"] == "ccp-registry-export/1"
    assert header["developer"] == {"slug": "example-ai", "name": "Example AI Ltd"}
    assert header["works_count"] == 2 == found.works_count == found.done == found.total
    assert header["sites_count"] == 2
    assert changes.cursor_decode(header["cursor"]) is not None
    assert header["cursor"] == found.cursor
    expected = work_objects(Work.objects.values_list("pk", flat=True), developer=developer)
    sites = changes.site_objects(["x", bobs.public_id], developer=developer)
    assert entries[:2] == [
        {"type": "work", "public_id": w["public_id"], "removed": False, "work": w}
        for _, w in sorted(expected.items())
    ]
    assert [(e["type"], e["site"]["host"]) for e in entries[2:]] == [
        ("site", "bob.example"),
        ("site", "bass.example"),
    ]
    assert entries[3]["site"] == sites[bobs.public_id]
    licensed = next(e for e in entries if e["public_id"] == mine.public_id)
    assert licensed["work"]["decision"]["train-genai"]["licence_ref"] == "LIC-1"
    assert found.size == default_storage.size(found.file.name)
    assert len(found.etag) == 64 and found.state == State.IDLE and found.built_at


def test_the_feed_from_an_exports_cursor_lists_what_changed_since(creator, developer):
    before = works.work_create(owner=creator, title="Before", kind="book")
    header, _ = read_export(built(developer))
    after = works.work_create(owner=creator, title="After", kind="book")
    consent.override_set(actor=creator, work=before, choices={"search": "deny"})

    page = changes.changes_page(
        developer=developer, position=changes.cursor_decode(header["cursor"])
    )

    listed = [entry["public_id"] for entry in page.results]
    assert after.public_id in listed and before.public_id in listed


def test_one_build_at_a_time(developer):
    first = export.export_request(developer=developer)
    again = export.export_request(developer=developer)

    assert first.pk == again.pk and again.state == State.QUEUED
    assert export._claim(first.pk) is not None
    assert export._claim(first.pk) is None  # the first worker's lease still runs
    assert export.export_request(developer=developer).state == State.BUILDING


def test_a_build_whose_worker_died_is_taken_again_once_its_lease_ends(developer):
    asked = export.export_request(developer=developer)
    assert export._claim(asked.pk) is not None
    RegistryExport.objects.filter(pk=asked.pk).update(
        lease_until=timezone.now() - timedelta(seconds=1)
    )

    assert export.export_build(export_id=asked.pk) is not None


def test_nothing_is_built_unless_asked(developer):
    found = RegistryExport.objects.create(developer=developer)

    assert export.export_build(export_id=found.pk) is None
    assert not RegistryExport.objects.get(pk=found.pk).file


def test_a_new_build_replaces_the_file_and_deletes_the_old(
    creator, developer, django_capture_on_commit_callbacks
):
    works.work_create(owner=creator, title="One", kind="book")
    with django_capture_on_commit_callbacks(execute=True):
        first = built(developer)
    works.work_create(owner=creator, title="Two", kind="book")
    with django_capture_on_commit_callbacks(execute=True):
        second = built(developer)

    assert second.file.name != first.file.name
    assert not default_storage.exists(first.file.name)
    assert default_storage.exists(second.file.name)
    assert second.etag != first.etag and second.works_count == 2


def test_a_failed_build_keeps_the_last_export_and_says_so(creator, developer, monkeypatch):
    works.work_create(owner=creator, title="One", kind="book")
    first = built(developer)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(export, "work_objects", broken)
    asked = export.export_request(developer=developer)

    assert export.export_build(export_id=asked.pk) is None
    found = RegistryExport.objects.get(pk=asked.pk)
    assert found.state == State.IDLE and found.error == export.FAILED
    assert found.file.name == first.file.name and found.ready
    assert read_export(found)[0]["works_count"] == 1


def test_a_build_that_lost_its_lease_stores_nothing(creator, developer, monkeypatch):
    works.work_create(owner=creator, title="One", kind="book")
    asked = export.export_request(developer=developer)
    real = export.work_objects

    def taken_meanwhile(*args, **kwargs):
        RegistryExport.objects.filter(pk=asked.pk).update(attempts=99)
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "work_objects", taken_meanwhile)

    assert export.export_build(export_id=asked.pk) is None
    assert not RegistryExport.objects.get(pk=asked.pk).file


def test_the_sweep_rebuilds_old_exports_and_wakes_lost_builds(creator, developer, monkeypatch):
    woken = []
    monkeypatch.setattr(export, "_enqueue", woken.append)
    now = timezone.now()
    old = built(developer)
    fresh = built(factories.AIDeveloperFactory())
    lost = export.export_request(developer=factories.AIDeveloperFactory())
    RegistryExport.objects.filter(pk=lost.pk).update(requested_at=now - timedelta(minutes=5))
    inactive = built(factories.AIDeveloperFactory(is_active=False))
    long_ago = now - timedelta(days=2)
    RegistryExport.objects.filter(pk__in=[old.pk, inactive.pk]).update(built_at=long_ago)

    assert export.exports_sweep(now=now) == 2

    assert sorted(woken) == sorted([old.pk, lost.pk])
    assert RegistryExport.objects.get(pk=old.pk).state == State.QUEUED
    assert RegistryExport.objects.get(pk=fresh.pk).state == State.IDLE
    assert RegistryExport.objects.get(pk=inactive.pk).state == State.IDLE


@pytest.mark.django_db(transaction=True)
def test_a_build_reads_one_snapshot_and_its_cursor_covers_what_it_missed(monkeypatch):
    """Outside any transaction (as the worker runs it): what someone else changes while the file
    is written — a work renamed, a work registered — is not in it, the works being read in one
    snapshot, and the feed from the file's cursor lists both. Progress is recorded meanwhile,
    on a connection of its own."""
    import threading

    from django.db import connection as main

    creator = factories.CreatorProfileFactory(display_name="Ada Quill").user
    developer = factories.AIDeveloperFactory()
    before = works.work_create(owner=creator, title="Before", kind="book")
    real, made = export.work_objects, []

    def change_meanwhile():
        from django.db import connection

        works.work_update(actor=creator, work=before, title="Renamed")
        made.append(works.work_create(owner=creator, title="Meanwhile", kind="book"))
        connection.close()

    def answering(*args, **kwargs):
        if not made:
            thread = threading.Thread(target=change_meanwhile)
            thread.start()
            thread.join()
        assert main.in_atomic_block or main.vendor == "sqlite"
        return real(*args, **kwargs)

    monkeypatch.setattr(export, "work_objects", answering)
    # Committed, the request wakes the worker (here the task runs eagerly, in this process).
    asked = export.export_request(developer=developer)
    found = RegistryExport.objects.get(pk=asked.pk)

    header, entries = read_export(found)
    assert [entry["work"]["title"] for entry in entries] == ["Before"]
    assert header["works_count"] == 1 == found.works_count == found.done
    page = changes.changes_page(
        developer=developer, position=changes.cursor_decode(header["cursor"])
    )
    titles = {entry["public_id"]: entry["work"]["title"] for entry in page.results}
    assert titles == {before.public_id: "Renamed", made[0].public_id: "Meanwhile"}
