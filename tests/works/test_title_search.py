"""Works' folded titles: every path that writes a title keeps ``Work.title_folded`` equal to
``fold_title(title)``, and the works list searches titles through it — "orsted" finds
"Ørsted", "cafe" finds "Café"."""

import importlib
from http import HTTPStatus

import pytest
from django.apps import apps
from django.core.files import File
from django.urls import reverse

from accounts.folding import fold_title
from tests import factories
from tests.works import files
from tests.works.test_imports_csv import columns, write_csv
from tests.works.test_imports_zip import make_archive, metadata_csv
from works import imports
from works.models import Work

fill = importlib.import_module("works.migrations.0006_fill_title_folded")


def folded(title: str) -> str:
    return Work.objects.get(title=title).title_folded


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    def _run(owner, path):
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            job = imports.job_create(owner=owner, upload=File(handle, name=path.name))
        job.refresh_from_db()
        return job

    return _run


# --- Every writer of a title -------------------------------------------------------------------


def test_a_work_registered_on_its_page_has_its_title_folded(client, creator):
    client.force_login(creator)
    response = client.post(reverse("works:create"), {"title": "  Ørsted’s Café ", "kind": "book"})
    assert response.status_code == HTTPStatus.FOUND
    assert folded("Ørsted’s Café") == "orsteds cafe"


def test_a_renamed_work_has_its_new_title_folded(client, creator, work):
    client.force_login(creator)
    response = client.post(
        reverse("works:edit", args=[work.public_id]),
        {"title": "L’Été Ørsted", "kind": "book", "year": "2019"},
    )
    assert response.status_code == HTTPStatus.FOUND
    work.refresh_from_db()
    assert (work.title, work.title_folded) == ("L’Été Ørsted", "ete orsted")


def test_works_imported_from_a_csv_have_their_titles_folded(run_import, creator, tmp_path):
    header = columns(
        title="title", kind="kind", year="year", description="description",
        co_creators="co_creators", isbn="isbn", isrc="isrc", iswc="iswc", doi="doi", urls="urls",
    )  # fmt: skip
    path = write_csv(
        tmp_path / "catalogue.csv",
        [
            header,
            columns(title="The Æsir Saga", kind="book"),
            columns(title="Straße der Wölfe", kind="book", isbn="978-0-306-40615-7"),
        ],
    )
    job = run_import(creator, path)
    assert (job.created_count, job.error_count) == (2, 0)
    assert folded("The Æsir Saga") == "aesir saga"
    assert folded("Straße der Wölfe") == "strasse der wolfe"


def test_works_imported_from_a_zip_have_their_titles_folded(run_import, creator, tmp_path):
    archive = make_archive(
        tmp_path / "shoot.zip",
        {
            "Ørsted at dawn.jpg": files.make_jpeg(tmp_path / "a.jpg", size=(300, 200), seed=1),
            "b.jpg": files.make_jpeg(tmp_path / "b.jpg", size=(300, 200), seed=2),
            "metadata.csv": metadata_csv([["file", "title"], ["b.jpg", "La Þórsmörk"]]),
        },
    )
    job = run_import(creator, archive)
    assert (job.created_count, job.error_count) == (2, 0)
    assert folded("Ørsted at dawn") == "orsted at dawn"  # the file's name as its title
    assert folded("La Þórsmörk") == "thorsmork"


def test_the_migration_folds_the_titles_of_works_registered_before(creator, monkeypatch):
    titles = ["Ørsted", "The Café", "Œuvres", "Plain", "Straße"]
    for title in titles:
        factories.WorkFactory(owner=creator, title=title)
    Work.objects.update(title_folded="")
    monkeypatch.setattr(fill, "BATCH", 2)  # several batches

    fill.fill_title_folded(apps, None)

    assert {w.title: w.title_folded for w in Work.objects.all()} == {
        title: fold_title(title) for title in titles
    }


# --- Search ------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(client, creator, other_creator):
    """Alice's works, registered on the page as the creator would; Bob has an "Ørsted" too."""
    client.force_login(other_creator)
    client.post(reverse("works:create"), {"title": "Ørsted, Bob's", "kind": "book"})
    client.force_login(creator)
    for title in ["Ørsted", "Café Society", "The Quiet Harbour", "Another Book", "?!"]:
        response = client.post(reverse("works:create"), {"title": title, "kind": "book"})
        assert response.status_code == HTTPStatus.FOUND
    client.get(reverse("works:list"))  # the "registered" messages shown, not on the next page
    return client


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("orsted", {"Ørsted"}),
        ("ØRSTED", {"Ørsted"}),
        ("cafe", {"Café Society"}),
        ("Café", {"Café Society"}),
        ("CAFE SOC", {"Café Society"}),
        ("quiet", {"The Quiet Harbour"}),
        ("the quiet harbour", {"The Quiet Harbour"}),  # the article as the title has it
        ("harbour!", {"The Quiet Harbour"}),
        ("?!", {"?!"}),  # nothing but punctuation: looked for as typed
        ("nothing like it", set()),
    ],
)
def test_the_works_list_finds_titles_whatever_their_accents_case_and_punctuation(
    catalogue, q, found
):
    page = catalogue.get(reverse("works:list"), {"q": q}).content.decode()
    titles = {"Ørsted", "Café Society", "The Quiet Harbour", "Another Book", "?!"}
    assert {title for title in titles if f">{title}<" in page} == found
    assert "Bob&#x27;s" not in page


def test_identifiers_are_still_searched(client, creator, work):
    client.force_login(creator)
    page = client.get(reverse("works:list"), {"q": "0-306-40615-2"}).content.decode()
    assert "The Quiet Harbour" in page


@pytest.mark.parametrize("count", [10, 5_000])
def test_searching_the_list_takes_as_many_queries_whatever_the_catalogue(
    client, creator, count, django_assert_max_num_queries
):
    Work.objects.bulk_create(
        Work(
            owner=creator,
            title=f"Ørsted {i:05d}",
            title_folded=fold_title(f"Ørsted {i:05d}"),
            kind="photograph",
        )
        for i in range(count)
    )
    client.force_login(creator)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("works:list"), {"q": "orsted 0000"})
    assert response.status_code == HTTPStatus.OK
    assert "Ørsted 00001" in response.content.decode()
