"""Issue 19 on "Register a work": the web addresses field reports every bad line, not the
first; a work already in the creator's own catalogue (an identifier or the same file) is said
and linked, with "Register anyway"; a chosen file survives an error elsewhere in the form."""

import hashlib
import shutil
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.template.defaultfilters import filesizeformat
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.htmltree import parse
from tests.storage import stored_names
from tests.works import files
from works import tasks
from works.models import PendingUpload, Work


def test_every_bad_web_address_is_reported_with_its_line(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("works:create"),
        {
            "title": "Op-ed",
            "kind": "article",
            "url": "https://news.example/a\njavascript:alert(1)\nnews.example/b\nhttps://exa_mple..com/\n",
        },
    )
    assert response.status_code == HTTPStatus.OK
    page = parse(response.content)
    errors = [li.text() for li in page.by_id("id_url_error").find_all("li")]
    assert len(errors) == 2
    assert errors[0].startswith("Line 2: “javascript:alert(1)”: Only web addresses")
    assert errors[1].startswith("Line 4: “https://exa_mple..com/”: The site name")
    # Each is its own link in the summary, and the typed text is kept.
    summary = [a.text() for a in page.find(data_error_summary=True).find_all("a")]
    assert [s.split(":")[1].strip() for s in summary] == ["Line 2", "Line 4"]
    assert "news.example/b" in page.by_id("id_url").text()
    assert not Work.objects.exists()


def test_every_bad_isbn_is_reported(client, creator):
    client.force_login(creator)
    response = client.post(
        reverse("works:create"),
        {"title": "Two", "kind": "book", "isbn": "978-0-306-40615-8 0306406152 12345"},
    )
    errors = [li.text() for li in parse(response.content).by_id("id_isbn_error").find_all("li")]
    assert len(errors) == 2
    assert errors[0].startswith("“978-0-306-40615-8”") and errors[1].startswith("“12345”")


# --- A chosen file survives an error elsewhere ---------------------------------------------------


@pytest.fixture
def register(django_capture_on_commit_callbacks):
    """``register(user, path=None, **fields)`` posts "Register a work" as ``user`` (a browser
    of their own each)."""
    clients = {}

    def _register(user, path: Path | None = None, **fields):
        if user.pk not in clients:
            clients[user.pk] = Client()
            clients[user.pk].force_login(user)
        client = clients[user.pk]
        data = {"title": "Tide Tables", "kind": "book", **fields}
        data = {k: v for k, v in data.items() if v is not None}
        with django_capture_on_commit_callbacks(execute=True):
            if path is None:
                return client.post(reverse("works:create"), data)
            with open(path, "rb") as handle:
                return client.post(reverse("works:create"), {**data, "file": handle})

    return _register


def kept_token(response) -> str:
    field = parse(response.content).find("input", name="kept_file")
    return field.get("value", "") if field is not None else ""


def test_a_chosen_file_is_kept_when_another_field_fails_and_used_when_sent_again(
    register, creator, tmp_path
):
    pdf = files.make_pdf(tmp_path / "tide.pdf")
    response = register(creator, pdf, title="", isbn="978-0-306-40615-8")
    assert response.status_code == HTTPStatus.OK
    page = parse(response.content)
    kept = page.by_id("id_file_kept")
    size = filesizeformat(pdf.stat().st_size).replace("\xa0", " ")
    assert kept.text() == f"Kept: tide.pdf ({size}) — choose another to replace it."
    assert "id_file_kept" in page.by_id("id_file")["aria-describedby"].split()
    token = kept_token(response)
    pending = PendingUpload.objects.get()
    assert pending.owner == creator and pending.token == token
    assert pending.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()
    assert len(stored_names("pending")) == 1
    assert not Work.objects.exists()

    # Fixed, and sent again without choosing the file again.
    response = register(creator, title="Tide Tables", isbn="978-0-306-40615-7", kept_file=token)
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    work = Work.objects.get()
    assert work.file.original_name == "tide.pdf"
    assert work.file.sha256 == pending.sha256
    assert work.file.mime == "application/pdf"
    assert not PendingUpload.objects.exists()
    assert stored_names("pending") == []  # the kept copy is gone; the work's own file stays
    assert len(stored_names("originals")) == 1


def test_a_new_choice_replaces_the_kept_file(register, creator, tmp_path):
    first = register(creator, files.make_pdf(tmp_path / "old.pdf"), title="")
    second = register(
        creator, files.make_txt(tmp_path / "new.txt"), title="", kept_file=kept_token(first)
    )
    assert "Kept: new.txt" in parse(second.content).by_id("id_file_kept").text()
    assert list(PendingUpload.objects.values_list("original_name", flat=True)) == ["new.txt"]
    assert len(stored_names("pending")) == 1
    register(creator, kept_file=kept_token(second))
    assert Work.objects.get().file.original_name == "new.txt"


def test_a_file_refused_by_its_content_is_not_kept(register, creator, tmp_path):
    photo = files.make_jpeg(tmp_path / "photo.jpg")
    disguised = Path(shutil.copy(photo, tmp_path / "chapter.pdf"))
    response = register(creator, disguised, title="")
    page = parse(response.content)
    assert page.by_id("id_file_error") is not None
    assert page.by_id("id_file_kept") is None and kept_token(response) == ""
    assert not PendingUpload.objects.exists() and stored_names("pending") == []


@pytest.mark.parametrize("whose", ["other creator's", "forged", "expired"])
def test_a_token_that_is_not_the_creators_own_kept_file_is_refused(
    register, creator, other_creator, tmp_path, whose
):
    theirs = register(other_creator, files.make_pdf(tmp_path / "theirs.pdf"), title="")
    token = kept_token(theirs)
    if whose == "forged":
        token = token[:-4] + "AAAA"
    elif whose == "expired":
        mine = register(creator, files.make_pdf(tmp_path / "mine.pdf"), title="")
        token = kept_token(mine)
        PendingUpload.objects.filter(token=token).update(
            created_at=timezone.now() - timedelta(days=2)
        )
    response = register(creator, kept_file=token)
    assert response.status_code == HTTPStatus.OK
    page = parse(response.content)
    assert "no longer kept" in page.by_id("id_file_error").text()
    assert "theirs.pdf" not in response.content.decode()
    assert not Work.objects.exists()
    assert PendingUpload.objects.filter(owner=other_creator).count() == 1  # theirs untouched


def test_the_sweep_deletes_kept_files_past_their_time(
    register, creator, tmp_path, django_capture_on_commit_callbacks
):
    register(creator, files.make_pdf(tmp_path / "a.pdf"), title="")
    register(creator, files.make_txt(tmp_path / "b.txt"), title="")
    PendingUpload.objects.filter(original_name="a.pdf").update(
        created_at=timezone.now() - timedelta(hours=25)
    )
    kept = PendingUpload.objects.get(original_name="b.txt").file.name
    assert len(stored_names("pending")) == 2
    with django_capture_on_commit_callbacks(execute=True):
        tasks.work_files_sweep()  # the beat's works sweep
    assert list(PendingUpload.objects.values_list("original_name", flat=True)) == ["b.txt"]
    assert stored_names("pending") == [kept]


def test_a_creator_keeps_at_most_a_few_files(register, creator, tmp_path, settings):
    settings.WORKS_PENDING_UPLOADS_PER_CREATOR = 2
    for name in ["a.txt", "b.txt", "c.txt"]:
        register(creator, files.make_txt(tmp_path / name), title="")
    assert sorted(PendingUpload.objects.values_list("original_name", flat=True)) == [
        "b.txt",
        "c.txt",
    ]
    assert len(stored_names("pending")) == 2


# --- Duplicates in the creator's own catalogue ---------------------------------------------------


def test_an_identifier_already_in_the_catalogue_is_said_and_linked(register, creator):
    existing = factories.WorkFactory(owner=creator, title="Tidewater", kind="book", year=2021)
    factories.WorkIdentifierFactory(work=existing, scheme="isbn", value="9780306406157")
    response = register(creator, title="Tidewater (paperback)", isbn="0-306-40615-2")
    assert response.status_code == HTTPStatus.OK
    box = parse(response.content).by_id("duplicates")
    assert box["role"] == "alert" and "data-focus-on-load" in box.attrs
    link = box.find("a")
    assert link["href"] == existing.get_absolute_url() and link.text() == "Tidewater"
    assert "the same ISBN: 9780306406157" in box.text()
    assert Work.objects.count() == 1

    response = register(
        creator, title="Tidewater (paperback)", isbn="0-306-40615-2", register_anyway="on"
    )
    assert response.status_code == HTTPStatus.FOUND
    assert Work.objects.filter(title="Tidewater (paperback)").exists()


def test_the_same_file_is_said_and_kept_for_register_anyway(register, creator, tmp_path):
    pdf = files.make_pdf(tmp_path / "tide.pdf")
    assert register(creator, pdf, title="Tide Tables").status_code == HTTPStatus.FOUND
    response = register(creator, pdf, title="Tide Tables again")
    box = parse(response.content).by_id("duplicates")
    assert "Tide Tables" in box.text() and "the same file" in box.text()
    assert Work.objects.count() == 1
    response = register(
        creator, title="Tide Tables again", kept_file=kept_token(response), register_anyway="on"
    )
    assert response.status_code == HTTPStatus.FOUND
    again = Work.objects.get(title="Tide Tables again")
    assert again.file.sha256 == hashlib.sha256(pdf.read_bytes()).hexdigest()


def test_another_creators_identical_work_is_not_revealed(
    register, creator, other_creator, tmp_path
):
    pdf = files.make_pdf(tmp_path / "tide.pdf")
    register(other_creator, pdf, title="Their Secret Title", isbn="9780306406157")
    response = register(creator, pdf, title="Tide Tables", isbn="9780306406157")
    assert response.status_code == HTTPStatus.FOUND  # registered: no warning
    page = register(creator, title="", isbn="9780306406157").content.decode()
    assert "Their Secret Title" not in page and "duplicates" not in page
