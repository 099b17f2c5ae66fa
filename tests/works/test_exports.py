import csv
import io
import json
from http import HTTPStatus

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests import factories
from works.exports import COLUMNS, catalogue_rows, columns
from works.imports.csvfiles import CSV_COLUMNS
from works.models import Work, WorkFile, WorkIdentifier

# The columns of the import template: an export must carry each of them, under the same name, so
# that a creator can import their export again (into another account, or after a clean-up).
IMPORT_TEMPLATE_COLUMNS = list(CSV_COLUMNS)


def download(client, name, **params):
    response = client.get(reverse(name), params)
    assert response.status_code == HTTPStatus.OK
    return response, b"".join(response.streaming_content)


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte-order mark"
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"), newline="")))


def export_csv(client, **params) -> list[dict]:
    return read_csv(download(client, "works:export-csv", **params)[1])


def export_json(client, **params) -> dict:
    return json.loads(download(client, "works:export-json", **params)[1])


def test_csv_lists_the_creators_works_with_identifiers_urls_and_claim_state(client, creator, work):
    verified = factories.WorkFactory(
        owner=creator,
        title="Song of the Tides",
        kind="composition",
        year=2021,
        claim_state=Work.Claim.VERIFIED,
        claim_decided_at=timezone.now(),
        co_creators="Ben Bassist (music)\nCara Cello (arrangement)",
    )
    factories.WorkIdentifierFactory(work=verified, scheme="iswc", value="T0345246801")
    factories.WorkIdentifierFactory(work=verified, scheme="isrc", value="GBAYE0601498")
    factories.WorkIdentifierFactory(work=verified, scheme="url", value="https://alice.example/a")
    factories.WorkIdentifierFactory(work=verified, scheme="url", value="https://alice.example/b")
    client.force_login(creator)

    rows = {row["title"]: row for row in export_csv(client)}

    assert set(rows) == {"The Quiet Harbour", "Song of the Tides"}
    harbour = rows["The Quiet Harbour"]
    assert harbour["public_id"] == work.public_id
    assert (harbour["kind"], harbour["year"], harbour["status"]) == ("book", "2019", "active")
    assert harbour["claim_state"] == "self_declared"
    assert harbour["isbn"] == "9780306406157"
    assert harbour["urls"] == "https://alice.example/harbour"
    assert harbour["isrc"] == harbour["iswc"] == harbour["doi"] == ""
    assert harbour["public_url"] == settings.SITE_URL + reverse(
        "works:public", args=[work.public_id]
    )
    assert harbour["created_at"] == work.created_at.isoformat()
    song = rows["Song of the Tides"]
    assert song["claim_state"] == "verified"
    assert song["iswc"] == "T-034.524.680-1"
    assert song["isrc"] == "GB-AYE-06-01498"
    assert song["urls"] == "https://alice.example/a https://alice.example/b"
    assert song["co_creators"] == "Ben Bassist (music)\nCara Cello (arrangement)"


def test_csv_is_an_attachment_named_after_today(client, creator, work):
    client.force_login(creator)
    response, _ = download(client, "works:export-csv")
    today = timezone.localdate().isoformat()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="catalogue-{today}.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"


def test_file_name_fingerprints_are_exported(client, creator, work):
    WorkFile.objects.create(
        work=work,
        status=WorkFile.Status.READY,
        original_name="harbour-cover.png",
        size=1234,
        sha256="ab" * 32,
        family="image",
        format="png",
        mime="image/png",
        phash=-1,  # stored signed: all 64 bits set
    )
    factories.WorkFactory(owner=creator, title="No file")
    client.force_login(creator)

    rows = {row["title"]: row for row in export_csv(client)}

    assert rows["The Quiet Harbour"]["file"] == "harbour-cover.png"
    assert rows["The Quiet Harbour"]["sha256"] == "ab" * 32
    assert rows["The Quiet Harbour"]["phash"] == "ffffffffffffffff"
    assert rows["No file"]["file"] == rows["No file"]["sha256"] == rows["No file"]["phash"] == ""


def test_other_creators_works_are_not_exported(client, creator, work, other_work):
    client.force_login(creator)
    assert [row["title"] for row in export_csv(client)] == ["The Quiet Harbour"]
    titles = [item["title"] for item in export_json(client)["works"]]
    assert titles == ["The Quiet Harbour"]


@pytest.mark.parametrize("name", ["works:export-csv", "works:export-json"])
def test_anonymous_visitor_is_sent_to_sign_in(client, work, name):
    response = client.get(reverse(name))
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse(settings.LOGIN_URL))


FORMULAS = ['=HYPERLINK("http://x","y")', "+1", "-1", "@SUM(1)", "\t=1"]


def test_csv_cells_a_spreadsheet_would_run_are_prefixed(client, creator):
    for title in FORMULAS:
        factories.WorkFactory(owner=creator, title=title, description="=1+1")
    client.force_login(creator)

    _, content = download(client, "works:export-csv")
    cells = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))

    header, rows = cells[0], cells[1:]
    titles = [row[header.index("title")] for row in rows]
    assert sorted(titles) == sorted("'" + title for title in FORMULAS)
    assert {row[header.index("description")] for row in rows} == {"'=1+1"}


def test_json_keeps_titles_as_they_are(client, creator):
    for title in FORMULAS:
        factories.WorkFactory(owner=creator, title=title)
    client.force_login(creator)
    titles = [item["title"] for item in export_json(client)["works"]]
    assert sorted(titles) == sorted(FORMULAS)


def test_json_document_has_the_creator_and_the_works(client, creator, work):
    client.force_login(creator)
    response, content = download(client, "works:export-json")
    today = timezone.localdate().isoformat()
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Content-Disposition"] == f'attachment; filename="catalogue-{today}.json"'
    assert response["X-Content-Type-Options"] == "nosniff"

    document = json.loads(content)

    assert document["creator"] == {"credit_name": "Alice Author"}
    assert document["exported_at"].startswith(today[:4])
    [item] = document["works"]
    assert list(item) == list(columns())  # COLUMNS, then each AI use's effective choice
    assert item["public_id"] == work.public_id
    assert item["year"] == 2019
    assert item["isbn"] == "9780306406157"
    assert item["urls"] == "https://alice.example/harbour"


def test_json_of_an_empty_catalogue_is_valid(client, creator):
    client.force_login(creator)
    assert export_json(client)["works"] == []


def test_non_ascii_titles_survive_both_formats(client, creator):
    title = "Café au lait, l’après-midi — 日本の夏"
    factories.WorkFactory(owner=creator, title=title, co_creators="Zoë Ñúñez")
    client.force_login(creator)
    [row] = export_csv(client)
    assert (row["title"], row["co_creators"]) == (title, "Zoë Ñúñez")
    [item] = export_json(client)["works"]
    assert (item["title"], item["co_creators"]) == (title, "Zoë Ñúñez")


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("", {"Kept", "Put away"}),
        ("all", {"Kept", "Put away"}),
        ("active", {"Kept"}),
        ("archived", {"Put away"}),
    ],
)
def test_status_filter(client, creator, status, expected):
    factories.WorkFactory(owner=creator, title="Kept")
    factories.WorkFactory(owner=creator, title="Put away", status=Work.Status.ARCHIVED)
    client.force_login(creator)
    params = {"status": status} if status else {}
    assert {row["title"] for row in export_csv(client, **params)} == expected
    assert {item["title"] for item in export_json(client, **params)["works"]} == expected


@pytest.mark.parametrize("name", ["works:export-csv", "works:export-json"])
def test_unknown_status_is_a_bad_request(client, creator, name):
    client.force_login(creator)
    response = client.get(reverse(name), {"status": "deleted"})
    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_every_import_template_column_is_in_the_export(client, creator, work):
    client.force_login(creator)
    _, content = download(client, "works:export-csv")
    header = next(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert header == list(columns())
    assert header[: len(COLUMNS)] == list(COLUMNS)
    assert set(IMPORT_TEMPLATE_COLUMNS) <= set(header)


def _catalogue(owner, count):
    works = Work.objects.bulk_create(
        Work(owner=owner, title=f"Work {i}", kind="book", year=2000 + i % 20) for i in range(count)
    )
    WorkIdentifier.objects.bulk_create(
        WorkIdentifier(work=work, scheme="url", value=f"https://alice.example/{work.pk}")
        for work in works
    )


@pytest.mark.parametrize("count", [10, 300])
@pytest.mark.parametrize("name", ["works:export-csv", "works:export-json"])
def test_queries_do_not_grow_with_the_catalogue(
    client, creator, django_assert_max_num_queries, count, name
):
    _catalogue(creator, count)
    client.force_login(creator)
    response = client.get(reverse(name))
    # The works in one query; per chunk of 2,000 their identifiers and their AI choices.
    with django_assert_max_num_queries(3):
        content = b"".join(response.streaming_content)
    assert content.count(b"https://alice.example/") == count


def test_identifiers_are_fetched_per_chunk(creator, django_assert_num_queries):
    _catalogue(creator, 12)
    # The works, then identifiers and AI choices for 5 + 5 + 2 works.
    with django_assert_num_queries(1 + 3 * 2):
        rows = list(catalogue_rows(creator, chunk_size=5))
    assert [row["title"] for row in rows] == [f"Work {i}" for i in range(12)]
    assert all(row["urls"].startswith("https://alice.example/") for row in rows)


def test_a_catalogue_longer_than_one_chunk(client, creator):
    _catalogue(creator, 2001)
    client.force_login(creator)
    rows = export_csv(client)
    assert len(rows) == 2001
    assert all(row["urls"] for row in rows)


def test_catalogue_rows_refuses_an_unknown_status(creator):
    with pytest.raises(ValueError):
        catalogue_rows(creator, status="deleted")


def test_works_page_offers_the_downloads(client, creator, work):
    client.force_login(creator)
    page = client.get(reverse("works:list")).content.decode()
    assert reverse("works:export-csv") in page
    assert reverse("works:export-json") in page


def test_an_export_imports_back_as_the_same_catalogue(
    client, creator, other_creator, tmp_path, django_capture_on_commit_callbacks
):
    """A creator's CSV export, imported into another account, gives the same works with the
    same identifiers — titles that look like formulas included (the export's apostrophe comes
    off again on import)."""
    from django.core.files import File

    from works import imports

    novel = factories.WorkFactory(owner=creator, title="=Sum of Parts", kind="book", year=2019)
    factories.WorkIdentifierFactory(work=novel, scheme="isbn", value="9780306406157")
    song = factories.WorkFactory(owner=creator, title="Night Bus Home", kind="recording", year=2021)
    factories.WorkIdentifierFactory(work=song, scheme="isrc", value="GBAYE0601498")
    factories.WorkIdentifierFactory(work=song, scheme="url", value="https://ben.example/night-bus")
    factories.WorkFactory(owner=creator, title="Untitled sketch", kind="artwork", year=None)

    client.force_login(creator)
    exported = tmp_path / "catalogue.csv"
    exported.write_bytes(b"".join(client.get(reverse("works:export-csv")).streaming_content))

    with open(exported, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        job = imports.job_create(owner=other_creator, upload=File(handle, name="catalogue.csv"))
    job.refresh_from_db()
    assert (job.status, job.created_count, job.error_count) == ("done", 3, 0)

    def catalogue(user):
        return sorted(
            (w.title, w.kind, w.year, sorted((i.scheme, i.value) for i in w.identifiers.all()))
            for w in Work.objects.filter(owner=user).prefetch_related("identifiers")
        )

    assert catalogue(other_creator) == catalogue(creator)
