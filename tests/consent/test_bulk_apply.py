"""Bulk apply: one choice for one use over a selection of works (all, a kind, a search) —
previewed, confirmed, written as per-work overrides in one ledger entry, in a number of queries
that does not grow with the number of works."""

from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from consent.models import LedgerEntry, Preference
from tests import factories
from works.models import Work


def _works(owner, n, **fields):
    return Work.objects.bulk_create(
        Work(owner=owner, title=f"Poem {i}", kind=fields.get("kind", "poem")) for i in range(n)
    )


def _post(client, **data):
    payload = {"scope": "all", "use": "train-genai", "choice": "licence", "confirm": "on"}
    payload.update(data)
    return client.post(reverse("consent:bulk"), {k: v for k, v in payload.items() if v is not None})


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.post(reverse("consent:bulk"), {"scope": "all"})
    assert response["Location"].startswith(reverse("account_login"))


def test_the_preview_says_how_many_works_it_will_change(client, creator):
    _works(creator, 5)
    factories.WorkFactory(owner=creator, kind="book")
    client.force_login(creator)
    response = client.get(
        reverse("consent:bulk"),
        {"scope": "kind", "kind": "poem", "use": "train-genai", "choice": "licence"},
    )
    page = response.content.decode()
    assert "Your selection has <strong>5 works</strong>" in page
    assert "Setting training generative AI to only under licence will change 5 of them." in page
    assert "Apply to 5 works" in page
    assert not Preference.objects.exists()


def test_arriving_from_the_works_list_keeps_its_filters_without_errors(client, creator):
    client.force_login(creator)
    response = client.get(reverse("consent:bulk"), {"scope": "search", "kind": "book", "q": "Sea"})
    page = response.content.decode()
    assert 'class="errorlist"' not in page
    assert 'value="Sea"' in page
    assert 'value="search" id="id_scope_2" checked' in page or 'id="id_scope_2" checked' in page


def test_nothing_changes_without_the_confirmation(client, creator):
    _works(creator, 3)
    client.force_login(creator)
    response = _post(client, confirm=None)
    assert response.status_code == HTTPStatus.OK
    assert "This field is required" in response.content.decode()
    assert not Preference.objects.exists() and not LedgerEntry.objects.exists()


def test_bulk_apply_over_300_works_writes_300_overrides_and_one_entry(
    client, creator, mailoutbox, django_capture_on_commit_callbacks
):
    _works(creator, 300)
    client.force_login(creator)
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(client)
    assert response.status_code == HTTPStatus.FOUND
    assert Preference.objects.filter(work__owner=creator, use="train-genai").count() == 300
    entry = LedgerEntry.objects.get()
    assert '"action":"bulk.apply"' in entry.canonical
    assert len(mailoutbox) == 1 and entry.hash in mailoutbox[0].body
    page = client.get(response["Location"]).content.decode()
    assert "Saved — a receipt is on its way to your inbox" in page


def test_the_query_count_does_not_grow_with_the_number_of_works(
    client, creator, django_assert_max_num_queries
):
    client.force_login(creator)
    client.get(reverse("consent:preferences"))  # warm the session
    few = _works(creator, 30, kind="poem")
    with CaptureQueriesContext(connection) as queries:
        _post(client, scope="kind", kind="poem")
    assert Preference.objects.filter(work__in=few).count() == 30
    _works(creator, 300, kind="book")
    # SQLite may split a bulk insert into a couple more batches: nothing more.
    with django_assert_max_num_queries(len(queries) + 2):
        _post(client, scope="kind", kind="book")
    assert Preference.objects.filter(work__kind="book").count() == 300


def test_a_search_selects_exactly_the_works_lists_filters(client, creator):
    match = factories.WorkFactory(owner=creator, title="Harbour Lights", kind="book")
    factories.WorkFactory(owner=creator, title="Harbour Lights (draft)", kind="script")
    factories.WorkFactory(owner=creator, title="Something else", kind="book")
    client.force_login(creator)
    _post(client, scope="search", q="Harbour", kind="book", use="search", choice="deny")
    assert list(Preference.objects.values_list("work_id", flat=True)) == [match.pk]


def test_archived_works_follow_the_status_filter_of_a_search(client, creator):
    archived = factories.WorkFactory(owner=creator, title="Old", status="archived")
    factories.WorkFactory(owner=creator, title="New")
    client.force_login(creator)
    _post(client, scope="search", status="archived")
    assert list(Preference.objects.values_list("work_id", flat=True)) == [archived.pk]


def test_another_creators_works_are_never_selected(client, creator, other_creator):
    theirs = factories.WorkFactory(owner=other_creator, title="Bob's Bassline")
    client.force_login(creator)
    response = _post(client, scope="search", q="Bob's Bassline")
    assert response.status_code == HTTPStatus.OK
    assert "No works were selected" in response.content.decode()
    assert not Preference.objects.filter(work=theirs).exists()
    assert not LedgerEntry.objects.exists()


@pytest.mark.parametrize(
    "bad",
    [
        {"use": "train-everything"},
        {"choice": "sometimes"},
        {"scope": "everyone"},
        {"scope": "kind"},
    ],
)
def test_bad_input_changes_nothing(client, creator, bad):
    _works(creator, 3)
    client.force_login(creator)
    response = _post(client, **bad)
    assert response.status_code == HTTPStatus.OK
    assert 'class="errorlist' in response.content.decode()
    assert not Preference.objects.exists() and not LedgerEntry.objects.exists()


def test_follow_my_default_removes_the_overrides(client, creator):
    works = _works(creator, 4)
    for work in works[:3]:
        Preference.objects.create(owner=creator, work=work, use="style", choice="allow")
    client.force_login(creator)
    page = client.get(
        reverse("consent:bulk"), {"scope": "all", "use": "style", "choice": "default"}
    ).content.decode()
    assert "will change 3 of them" in page
    _post(client, use="style", choice="default")
    assert not Preference.objects.exists()
    assert LedgerEntry.objects.count() == 1
