"""The data migration that re-normalises stored web addresses under the one URL rule."""

import importlib

from django.apps import apps

from tests import factories
from works.models import Conflict, WorkIdentifier

migration = importlib.import_module("works.migrations.0004_url_identifiers_renormalised")


def _run():
    migration.renormalise_url_identifiers(apps, None)


def _urls(work):
    return sorted(work.identifiers.filter(scheme="url").values_list("value", flat=True))


def test_stored_addresses_with_tracking_parameters_are_renormalised(creator):
    work = factories.WorkFactory(owner=creator)
    factories.WorkIdentifierFactory(
        work=work, value="https://example.com/a?utm_source=feed&id=7&fbclid=x"
    )
    factories.WorkIdentifierFactory(work=work, value="https://example.com/b?page=2")
    factories.WorkIdentifierFactory(work=work, scheme="isbn", value="9780306406157")

    _run()

    assert _urls(work) == ["https://example.com/a?id=7", "https://example.com/b?page=2"]
    assert work.identifiers.filter(scheme="isbn").get().value == "9780306406157"


def test_two_addresses_of_one_work_that_now_coincide_become_one(creator):
    work = factories.WorkFactory(owner=creator)
    factories.WorkIdentifierFactory(work=work, value="https://example.com/a?utm_medium=rss")
    factories.WorkIdentifierFactory(work=work, value="https://example.com/a")
    factories.WorkIdentifierFactory(work=work, value="https://example.com/a?gclid=1")

    _run()

    assert _urls(work) == ["https://example.com/a"]


def test_addresses_of_two_creators_that_now_collide_become_a_conflict(creator, other_creator):
    first = factories.WorkFactory(owner=creator)
    second = factories.WorkFactory(owner=other_creator)
    factories.WorkIdentifierFactory(work=first, value="https://example.com/photo")
    factories.WorkIdentifierFactory(work=second, value="https://example.com/photo?utm_source=x")
    assert not Conflict.objects.exists()

    _run()

    conflict = Conflict.objects.get()
    assert {conflict.work_a_id, conflict.work_b_id} == {first.pk, second.pk}
    assert conflict.matches == [{"kind": "url", "value": "https://example.com/photo"}]


def test_running_it_twice_changes_nothing_more(creator):
    work = factories.WorkFactory(owner=creator)
    factories.WorkIdentifierFactory(work=work, value="https://example.com/a?mc_eid=1&x=2")
    _run()
    rows = list(WorkIdentifier.objects.values_list("pk", "value"))
    _run()
    assert (
        list(WorkIdentifier.objects.values_list("pk", "value"))
        == rows
        == [(rows[0][0], "https://example.com/a?x=2")]
    )
