from http import HTTPStatus

import pytest
from django.urls import reverse

from tests import factories
from works.models import Work, WorkIdentifier


def test_creator_registers_a_book_by_isbn(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("works:create"),
        {
            "title": "Tidewater",
            "kind": "book",
            "year": "2021",
            "isbn": "0-306-40615-2 978-3-16-148410-0",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    work = Work.objects.get(title="Tidewater")
    assert sorted(work.identifiers.values_list("value", flat=True)) == [
        "9780306406157",
        "9783161484100",
    ]
    assert work.claim_state == "self_declared"
    page = client.get(response["Location"]).content.decode()
    assert "9780306406157" in page


def test_a_song_by_iswc_and_isrc_and_an_article_by_url(client, creator):
    client.force_login(creator)
    client.post(
        reverse("works:create"),
        {
            "title": "Song",
            "kind": "composition",
            "iswc": "T-034.524.680-1",
            "isrc": "gb-aye-06-01498",
        },
    )
    client.post(
        reverse("works:create"),
        {"title": "Op-ed", "kind": "article", "url": "HTTPS://News.Example:443/a#top"},
    )
    assert set(WorkIdentifier.objects.values_list("scheme", "value")) == {
        ("iswc", "T0345246801"),
        ("isrc", "GBAYE0601498"),
        ("url", "https://news.example/a"),
    }


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("isbn", "978-0-306-40615-8", "check digit"),
        ("isrc", "G1-AYE-06-01498", "ISRC"),
        ("iswc", "T-034.524.680-2", "check digit"),
        ("doi", "11.1000/182", "10."),
        ("url", "javascript:alert(1)", "http"),
    ],
)
def test_a_malformed_identifier_is_explained_and_nothing_is_created(
    client, creator, field, value, message
):
    client.force_login(creator)
    response = client.post(reverse("works:create"), {"title": "Bad", "kind": "book", field: value})
    assert response.status_code == HTTPStatus.OK
    assert message in response.content.decode()
    assert not Work.objects.exists()


def test_html_in_a_title_is_shown_as_text(client, creator):
    client.force_login(creator)
    client.post(reverse("works:create"), {"title": "<img src=x onerror=alert(1)>", "kind": "poem"})
    work = Work.objects.get()
    for url in [
        reverse("works:list"),
        work.get_absolute_url(),
        reverse("works:public", args=[work.public_id]),
    ]:
        page = client.get(url).content.decode()
        assert "<img src=x onerror=alert(1)>" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_missing_title_and_kind_are_refused(client, creator):
    client.force_login(creator)
    response = client.post(reverse("works:create"), {"title": "   ", "kind": ""})
    assert response.status_code == HTTPStatus.OK
    assert not Work.objects.exists()


def test_edit_replaces_identifiers(client, creator, work):
    client.force_login(creator)
    response = client.post(
        reverse("works:edit", args=[work.public_id]),
        {
            "title": "The Quiet Harbour",
            "kind": "book",
            "year": "2019",
            "isbn": "9783161484100",
            "url": "",
        },
    )
    assert response.status_code == HTTPStatus.FOUND
    assert list(work.identifiers.values_list("scheme", "value")) == [("isbn", "9783161484100")]


def test_archive_and_restore(client, creator, work):
    client.force_login(creator)
    client.post(reverse("works:set-status", args=[work.public_id]), {"archived": "1"})
    work.refresh_from_db()
    assert work.is_archived
    assert "The Quiet Harbour" not in client.get(reverse("works:list")).content.decode()
    assert (
        "The Quiet Harbour"
        in client.get(reverse("works:list") + "?status=archived").content.decode()
    )
    # The public page stays: archived works keep their record.
    assert client.get(reverse("works:public", args=[work.public_id])).status_code == HTTPStatus.OK
    client.post(reverse("works:set-status", args=[work.public_id]), {"archived": "0"})
    work.refresh_from_db()
    assert not work.is_archived


def test_search_by_title_and_by_identifier_in_any_form(client, creator, work, other_work):
    factories.WorkFactory(owner=creator, title="Another Book")
    client.force_login(creator)
    by_title = client.get(reverse("works:list"), {"q": "quiet"}).content.decode()
    assert "The Quiet Harbour" in by_title and "Another Book" not in by_title
    by_isbn10 = client.get(reverse("works:list"), {"q": "0-306-40615-2"}).content.decode()
    assert "The Quiet Harbour" in by_isbn10 and "Another Book" not in by_isbn10


def test_filters_and_sorting(client, creator):
    factories.WorkFactory(owner=creator, title="B poem", kind="poem", year=2001)
    factories.WorkFactory(owner=creator, title="A song", kind="recording", year=2005)
    client.force_login(creator)
    page = client.get(reverse("works:list"), {"kind": "poem"}).content.decode()
    assert "B poem" in page and "A song" not in page
    page = client.get(reverse("works:list"), {"sort": "title"}).content.decode()
    assert page.index("A song") < page.index("B poem")


@pytest.mark.parametrize("count", [10, 10_000])
def test_works_list_query_count_does_not_grow(
    client, creator, count, django_assert_max_num_queries
):
    Work.objects.bulk_create(
        Work(owner=creator, title=f"Work {i:05d}", kind="photograph", public_id=f"bulk-{count}-{i}")
        for i in range(count)
    )
    WorkIdentifier.objects.bulk_create(
        WorkIdentifier(work=w, scheme="url", value=f"https://example.org/{w.pk}")
        for w in Work.objects.filter(owner=creator)[:50]
    )
    client.force_login(creator)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("works:list"), {"page": "2"})
    assert response.status_code == HTTPStatus.OK
