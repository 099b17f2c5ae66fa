"""Register several works at once (issue 20): one work per file, each file vetted by its
content through the real streaming handler; refused files are listed with their reason and the
others registered; the limits (files a request, the hourly allowance, storage) hold; the number
of queries does not grow with the creator's catalogue."""

import re
from contextlib import ExitStack
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests import factories
from tests.storage import stored_names
from tests.works import files
from works.models import Work, WorkFile

URL = reverse("works:create-several")


@pytest.fixture
def post_files(client, django_capture_on_commit_callbacks):
    def _post(paths, **data):
        with ExitStack() as stack, django_capture_on_commit_callbacks(execute=False):
            handles = [stack.enter_context(open(path, "rb")) for path in paths]
            return client.post(URL, {"files": handles, **data})

    return _post


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_three_files_become_three_works_titled_after_their_names(
    client, creator, post_files, tmp_path
):
    client.force_login(creator)
    paths = [
        files.make_pdf(tmp_path / "the-quiet-harbour.pdf"),
        files.make_jpeg(tmp_path / "Lighthouse at dusk.jpg", size=(300, 200), seed=1),
        files.make_wav(tmp_path / "sea shanty.wav"),
    ]
    response = post_files(paths)
    assert response.status_code == HTTPStatus.OK
    works = {w.title: w for w in Work.objects.filter(owner=creator)}
    assert set(works) == {"the-quiet-harbour", "Lighthouse at dusk", "sea shanty"}
    assert works["Lighthouse at dusk"].kind == Work.Kind.PHOTOGRAPH
    assert works["sea shanty"].kind == Work.Kind.RECORDING
    assert works["the-quiet-harbour"].kind == Work.Kind.OTHER
    assert WorkFile.objects.filter(work__owner=creator).count() == 3
    page = _text(response)
    assert "3 registered, 0 not registered" in page
    for work in works.values():
        assert reverse("works:edit", args=[work.public_id]) in page


def test_a_corrupt_file_is_refused_with_its_reason_and_the_others_registered(
    client, creator, post_files, tmp_path
):
    client.force_login(creator)
    broken = files.truncate(files.make_png(tmp_path / "broken.png", seed=2), keep=0.5)
    disguised = files.make_html(tmp_path / "poem.txt")
    paths = [
        files.make_pdf(tmp_path / "harbour.pdf"),
        broken,
        disguised,
        files.make_jpeg(tmp_path / "dusk.jpg", size=(300, 200), seed=3),
    ]
    response = post_files(paths, kind="artwork")
    assert response.status_code == HTTPStatus.OK
    assert sorted(Work.objects.values_list("title", "kind")) == [
        ("dusk", "artwork"),
        ("harbour", "artwork"),
    ]
    page = _text(response)
    assert "2 registered, 2 not registered" in page
    assert re.search(
        r"<strong>broken.png</strong>: [^<]*(truncated|damaged|incomplete)", page, re.I
    )
    assert "<strong>poem.txt</strong>: This file is a web page (HTML)" in page


def test_a_file_already_registered_or_sent_twice_is_not_registered_again(
    client, creator, post_files, tmp_path
):
    client.force_login(creator)
    pdf = files.make_pdf(tmp_path / "harbour.pdf")
    post_files([pdf])
    copy = tmp_path / "copy"
    copy.mkdir()
    again = files.make_pdf(copy / "harbour again.pdf")
    jpeg = files.make_jpeg(tmp_path / "a.jpg", size=(200, 200), seed=5)
    jpeg_twice = copy / "b.jpg"
    jpeg_twice.write_bytes(jpeg.read_bytes())
    response = post_files([again, jpeg, jpeg_twice])
    page = _text(response)
    assert "You have already registered this file, as “harbour”." in page
    assert "<strong>b.jpg</strong>: This is the same file as “a.jpg”, above." in page
    assert sorted(Work.objects.values_list("title", flat=True)) == ["a", "harbour"]


def test_more_files_than_the_cap_registers_nothing(client, creator, post_files, tmp_path, settings):
    settings.WORKS_SEVERAL_MAX_FILES = 2
    client.force_login(creator)
    paths = [
        files.make_txt(tmp_path / f"poem {i}.txt", text=f"Poem number {i}\n") for i in range(3)
    ]
    response = post_files(paths)
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Choose at most 2 files at a time. Nothing was registered" in _text(response)
    assert not Work.objects.exists()
    assert stored_names("") == []


def test_no_file_chosen_says_so_and_changes_nothing(client, creator):
    client.force_login(creator)
    response = client.post(URL, {"kind": ""})
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Choose one or more files to register." in _text(response)
    assert not Work.objects.exists()


def test_an_unknown_kind_is_refused_and_changes_nothing(client, creator, post_files, tmp_path):
    client.force_login(creator)
    response = post_files([files.make_pdf(tmp_path / "a.pdf")], kind="sculpture")
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Select a valid choice" in _text(response)
    assert not Work.objects.exists()


def test_each_file_counts_against_the_hourly_allowance(
    client, creator, post_files, tmp_path, settings
):
    settings.WORKS_UPLOADS_PER_HOUR = 2
    client.force_login(creator)
    paths = [
        files.make_txt(tmp_path / f"poem {i}.txt", text=f"Poem number {i}\n") for i in range(3)
    ]
    page = _text(post_files(paths))
    assert Work.objects.count() == 2
    assert "<strong>poem 2.txt</strong>: You have uploaded a lot in the last hour" in page


def test_the_files_together_must_fit_the_storage_left(
    client, creator, post_files, tmp_path, settings
):
    client.force_login(creator)
    first = files.make_txt(tmp_path / "first.txt", text="A" * 3000 + "\n")
    second = files.make_txt(tmp_path / "second.txt", text="B" * 3000 + "\n")
    settings.WORKS_STORAGE_QUOTA = 5000  # room for one of them, not both
    page = _text(post_files([first, second]))
    assert Work.objects.count() == 1
    assert (
        "<strong>second.txt</strong>: This file would take you over your storage allowance" in page
    )


def test_queries_do_not_grow_with_the_catalogue(client, creator, post_files, tmp_path):
    client.force_login(creator)

    def count(n, folder):
        folder.mkdir()
        paths = [
            files.make_txt(folder / f"p{i}.txt", text=f"{folder.name} {i}\n") for i in range(n)
        ]
        with CaptureQueriesContext(connection) as queries:
            post_files(paths)
        return len(queries)

    count(1, tmp_path / "warm")  # the hourly allowance's first count, the session
    two, four, six = count(2, tmp_path / "a"), count(4, tmp_path / "b"), count(6, tmp_path / "c")
    assert six - four == four - two  # a fixed cost per file, no query per earlier work
    factories.WorkFactory.create_batch(60, owner=creator)
    assert count(4, tmp_path / "d") == four


def test_the_page_is_the_creators_own(client, creator, other_creator, post_files, tmp_path):
    response = client.get(URL)
    assert response.status_code == HTTPStatus.FOUND
    assert "/accounts/login/" in response["Location"]
    client.force_login(other_creator)
    post_files([files.make_pdf(tmp_path / "mine.pdf")])
    assert Work.objects.get().owner == other_creator  # registered for whoever sends it, no one else


def test_anonymous_post_registers_nothing(db, client, post_files, tmp_path):
    response = post_files([files.make_pdf(tmp_path / "a.pdf")])
    assert response.status_code == HTTPStatus.FOUND
    assert not Work.objects.exists()


def test_a_post_without_the_csrf_token_is_refused(creator, tmp_path):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(creator)
    with open(files.make_pdf(tmp_path / "a.pdf"), "rb") as handle:
        response = client.post(URL, {"files": [handle]})
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert not Work.objects.exists()


def test_an_upload_from_the_progress_script_is_told_where_to_go(client, creator, tmp_path):
    """upload.js sends X-Upload-Progress: a redirect becomes a header it follows itself, so
    the next page's message is not read by the XMLHttpRequest."""
    client.force_login(creator)
    with open(files.make_pdf(tmp_path / "harbour.pdf"), "rb") as handle:
        response = client.post(
            reverse("works:create"),
            {"title": "Harbour", "kind": "book", "file": handle},
            headers={"X-Upload-Progress": "1"},
        )
    work = Work.objects.get()
    assert response.status_code == HTTPStatus.OK
    assert response["X-Upload-Redirect"] == work.get_absolute_url()
    page = client.get(work.get_absolute_url())
    assert "“Harbour” is registered." in page.content.decode()


def test_the_works_list_and_the_register_page_lead_to_several_files_at_once(client, creator):
    client.force_login(creator)
    for page in (reverse("works:list"), reverse("works:create")):
        assert f'href="{URL}"' in client.get(page).content.decode(), page
