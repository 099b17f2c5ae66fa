"""Disclosures over the API (docs/api.md, "Disclosures"): submitting a manifest (multipart, the
file streamed to a temporary file under its own limit), reading one and the list, the exclusion
list as JSON Lines and CSV, cancelling — each organisation seeing only its own."""

import csv
import hashlib
import io
import json
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.test import Client

from disclosures.models import Disclosure, Finding
from disclosures.uploads import ManifestUploadHandler
from tests.disclosures.planted import (
    DENIED_ISBN,
    FORMULA_TITLE,
    LICENCE_ISBN,
    MANIFEST,
    csv_bytes,
    manifest_file,
)

URL = "/api/v1/disclosures"


def _one(pk: int) -> str:
    return f"{URL}/{pk}"


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def _fields(**overrides) -> dict:
    fields = {
        "name": "WebText-EU",
        "version": "2026-11",
        "uses": "train-ai",
        "models": "Example-7B",
        "period_start": "2026-01-01",
        "period_end": "2026-06-30",
        "summary_url": "https://example-ai.example/summary",
        "manifest": manifest_file(),
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


def _submit(client, **overrides):
    return client.post(URL, _fields(**overrides))


def _lines(response) -> list[dict]:
    body = b"".join(response.streaming_content).decode()
    return [json.loads(line) for line in body.splitlines()]


def _csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(body)))


@pytest.fixture
def matched(api, planted, django_capture_on_commit_callbacks):
    """The planted manifest submitted by API and matched (by the worker's task, eagerly)."""
    with django_capture_on_commit_callbacks(execute=True):
        response = _submit(api)
    assert response.status_code == HTTPStatus.CREATED, response.content[:500]
    disclosure = Disclosure.objects.get(pk=response.json()["id"])
    assert disclosure.state == Disclosure.State.DONE, disclosure.error
    return disclosure


# --- Submitting ----------------------------------------------------------------------------------


def test_a_new_manifest_is_kept_queued_and_answered_201(api, developer):
    response = _submit(api, uses=["train-ai", "ai-input"])

    assert response.status_code == HTTPStatus.CREATED, response.content[:500]
    body = response.json()
    disclosure = Disclosure.objects.get(developer=developer)
    assert response["Location"] == f"http://testserver{URL}/{disclosure.pk}"
    assert body["id"] == disclosure.pk and body["url"] == response["Location"]
    assert body["state"] == "queued" and body["via"] == "api"
    assert body["uses"] == ["train-ai", "ai-input"]
    assert body["models"] == "Example-7B"
    assert (body["period_start"], body["period_end"]) == ("2026-01-01", "2026-06-30")
    assert body["manifest"]["name"] == "dataset.csv"
    assert body["manifest"]["size"] == len(MANIFEST)
    assert body["links"]["exclusions"] == f"http://testserver{URL}/{disclosure.pk}/exclusions"
    with disclosure.manifest.open("rb") as kept:
        assert kept.read() == MANIFEST


def test_uses_may_be_separated_by_commas_or_repeated(api, developer):
    assert _submit(api, uses="train-ai, search").json()["uses"] == ["train-ai", "search"]
    repeated = _submit(
        api, uses=["style", "train-genai,ai-input"], manifest=manifest_file(b"url\nx")
    )
    assert repeated.json()["uses"] == ["train-genai", "ai-input", "style"]


def test_the_same_file_again_is_200_and_the_same_disclosure(api, developer):
    first = _submit(api)
    again = _submit(api, name="Another name")

    assert first.status_code == HTTPStatus.CREATED
    assert again.status_code == HTTPStatus.OK
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["name"] == "WebText-EU"
    assert Disclosure.objects.filter(developer=developer).count() == 1


def test_another_developer_sending_the_same_file_gets_its_own(api, other_api):
    mine, theirs = _submit(api), _submit(other_api)

    assert mine.status_code == theirs.status_code == HTTPStatus.CREATED
    assert mine.json()["id"] != theirs.json()["id"]


def test_the_manifest_streams_to_a_temporary_file_not_memory(api, monkeypatch):
    """Even a manifest smaller than Django's in-memory threshold goes to a temporary file, its
    SHA-256 computed on the way."""
    seen = []
    original = ManifestUploadHandler.file_complete

    def file_complete(self, file_size):
        uploaded = original(self, file_size)
        seen.append(uploaded)
        return uploaded

    monkeypatch.setattr(ManifestUploadHandler, "file_complete", file_complete)
    assert _submit(api).status_code == HTTPStatus.CREATED
    (uploaded,) = seen
    assert isinstance(uploaded, TemporaryUploadedFile)
    assert uploaded.sha256 == hashlib.sha256(MANIFEST).hexdigest()


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"name": None}, "name", "Name the dataset."),
        ({"name": "   "}, "name", "Name the dataset."),
        ({"uses": None}, "uses", "at least one"),
        ({"uses": ","}, "uses", "at least one"),
        ({"uses": "train-ai,mining"}, "uses", "mining is not one of the uses"),
        ({"period_end": "2025-12-31"}, "period_end", "The period ends before it starts."),
        ({"period_start": "1 March 2026"}, "period_start", "YYYY-MM-DD"),
        ({"period_start": "2026-02-30"}, "period_start", "YYYY-MM-DD"),
        ({"summary_url": "javascript:alert(1)"}, "summary_url", "https://"),
        ({"name": "x" * 201}, "name", "200 characters"),
        ({"manifest": None}, "manifest", "Choose the manifest file."),
        ({"manifest": manifest_file(b"")}, "manifest", "The manifest is empty."),
    ],
)
def test_bad_fields_are_400_with_the_field_at_fault_and_nothing_kept(
    api, developer, overrides, field, message
):
    error = _error(_submit(api, **overrides), 400, "invalid")

    assert field in error["fields"], error
    assert message in " ".join(error["fields"][field])
    assert not Disclosure.objects.exists()


def test_an_unknown_field_is_refused(api):
    error = _error(_submit(api, colour="blue"), 400, "invalid")
    assert error["fields"] == {"colour": ["Unknown field."]}
    assert not Disclosure.objects.exists()


def test_a_manifest_over_the_limit_is_413_and_nothing_kept(api, settings, tmp_path):
    settings.DISCLOSURE_MAX_MANIFEST_BYTES = 100_000
    big = csv_bytes([["url"]] + [[f"https://example.com/{i:08d}"] for i in range(5_000)])
    assert len(big) > 100_000

    error = _error(_submit(api, manifest=manifest_file(big)), 413, "too_large")

    assert error["message"] == "The manifest is too large: the limit is 97.7\xa0KB."
    assert not Disclosure.objects.exists()


def test_a_manifest_over_the_limit_is_refused_while_it_streams(api, settings, monkeypatch):
    """A body whose Content-Length does not give it away is refused at the first chunk past the
    limit: the handler stops keeping it there."""
    settings.DISCLOSURE_MAX_MANIFEST_BYTES = 300 * 1024
    monkeypatch.setattr("disclosures.uploads.MULTIPART_OVERHEAD", 10 * 2**20)
    received = []
    original = ManifestUploadHandler.receive_data_chunk

    def receive(self, raw_data, start):
        received.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(ManifestUploadHandler, "receive_data_chunk", receive)
    big = b"url\n" + b"https://example.com/a-long-address\n" * 100_000  # 3.5 MB

    _error(_submit(api, manifest=manifest_file(big)), 413, "too_large")

    assert sum(received) < 300 * 1024 + 2 * 65536 + 1  # stopped within a chunk of the limit
    assert not Disclosure.objects.exists()


def test_a_body_that_is_not_multipart_is_415(api):
    response = api.post(URL, json.dumps({"name": "x"}), content_type="application/json")
    _error(response, 415, "unsupported_media_type")


def test_html_in_the_name_comes_back_as_text(api):
    body = _submit(api, name="<script>alert(1)</script>").json()
    assert body["name"] == "<script>alert(1)</script>"


# --- Reading -------------------------------------------------------------------------------------


def test_the_list_is_the_callers_newest_first_a_page_at_a_time(api, other_api):
    ids = [
        _submit(api, manifest=manifest_file(f"url\n{i}".encode())).json()["id"] for i in range(3)
    ]
    _submit(other_api)

    first = api.get(URL, {"limit": 2}).json()
    second = api.get(first["next"]).json()

    assert [d["id"] for d in first["results"]] == ids[::-1][:2]
    assert [d["id"] for d in second["results"]] == ids[:1]
    assert second["next"] is None and second["next_cursor"] is None
    assert "report" not in first["results"][0]
    _error(api.get(URL, {"cursor": "nonsense"}), 400, "invalid_cursor")


def test_a_queued_disclosure_has_no_report_yet(api):
    pk = _submit(api).json()["id"]

    body = api.get(_one(pk)).json()

    assert body["state"] == "queued" and body["report"] is None
    assert body["rows_read"] == 0 and body["rows_total"] is None


def test_a_matched_manifest_reports_the_planted_rows(api, matched):
    body = api.get(_one(matched.pk)).json()

    assert body["state"] == "done" and body["error"] == ""
    assert body["columns"] == ["url", "isbn", "title", "author"]
    assert body["ignored_columns"] == ["caption"]
    assert body["rows_read"] == 5 and body["rows_matched"] == 4
    assert body["report"] == {
        "rows_read": 5,
        "rows_total": None,
        "rows_matched": 4,
        "rows_denied": 2,
        "rows_licence_only": 1,
        "rows_allowed": 1,
        "rows_to_exclude": 3,
    }


def test_the_exclusion_list_is_json_lines_by_default(api, matched, planted):
    response = api.get(f"{_one(matched.pk)}/exclusions")

    assert response.status_code == HTTPStatus.OK
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson"
    rows = _lines(response)
    assert [(r["row"], r["public_id"], r["decision"], r["match"], r["weak"]) for r in rows] == [
        (1, planted["denied"].public_id, "denied", "isbn", False),
        (4, planted["licence"].public_id, "licence", "isbn", False),
        (5, planted["formula"].public_id, "denied", "title", True),
    ]
    assert rows[0]["value"] == DENIED_ISBN and rows[1]["value"] == LICENCE_ISBN
    assert planted["allowed"].public_id not in {r["public_id"] for r in rows}


@pytest.mark.parametrize("how", [{"format": "csv"}, {"HTTP_ACCEPT": "text/csv"}])
def test_the_exclusion_list_as_csv_is_safe_in_a_spreadsheet(api, matched, planted, how):
    query = {k: v for k, v in how.items() if not k.startswith("HTTP_")}
    headers = {k: v for k, v in how.items() if k.startswith("HTTP_")}

    response = api.get(f"{_one(matched.pk)}/exclusions", query, **headers)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="disclosure-' in response["Content-Disposition"]
    header, *rows = _csv(response)
    assert header == [
        "row",
        "value",
        "match",
        "weak",
        "distance",
        "target",
        "public_id",
        "decision",
    ]
    assert [row[0] for row in rows] == ["1", "4", "5"]
    assert rows[0][1:] == ["9780306406157", "isbn", "false", "0", "work"] + [
        planted["denied"].public_id,
        "denied",
    ]
    assert rows[2][1].startswith("'" + FORMULA_TITLE)  # read as text, never as a formula
    assert rows[2][3] == "true"


def test_the_exclusion_list_waits_for_matching(api):
    pk = _submit(api).json()["id"]

    error = _error(api.get(f"{_one(pk)}/exclusions"), 409, "not_done")
    assert "not done" in error["message"]
    _error(api.get(f"{_one(pk)}/exclusions", {"format": "xml"}), 400, "invalid")


def test_a_failed_disclosure_says_why_and_has_no_list(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pk = _submit(api, manifest=manifest_file(b"colour,size\nred,3\n")).json()["id"]

    body = api.get(_one(pk)).json()

    assert body["state"] == "failed" and body["error"]
    assert body["report"] is None
    error = _error(api.get(f"{_one(pk)}/exclusions"), 409, "not_done")
    assert body["error"] in error["message"]


# --- Cancelling ----------------------------------------------------------------------------------


def test_a_queued_disclosure_is_cancelled_at_once(api):
    pk = _submit(api).json()["id"]

    response = api.post(f"{_one(pk)}/cancel")

    assert response.status_code == HTTPStatus.OK
    assert response.json()["state"] == "cancelled"
    assert api.post(f"{_one(pk)}/cancel").json()["state"] == "cancelled"  # again: no change
    _error(api.get(f"{_one(pk)}/exclusions"), 409, "not_done")


def test_a_running_disclosure_stops_at_its_next_batch(api):
    pk = _submit(api).json()["id"]
    Disclosure.objects.filter(pk=pk).update(state="running")

    body = api.post(f"{_one(pk)}/cancel").json()

    assert body["state"] == "running" and body["cancel_requested"] is True


def test_a_done_disclosure_cannot_be_cancelled(api, matched):
    _error(api.post(f"{_one(matched.pk)}/cancel"), 409, "finished")
    assert Disclosure.objects.get(pk=matched.pk).state == "done"


# --- Who sees what -------------------------------------------------------------------------------


def test_another_developers_disclosure_is_404_on_every_endpoint(other_api, matched):
    for path in (_one(matched.pk), f"{_one(matched.pk)}/exclusions"):
        _error(other_api.get(path), 404, "not_found")
    _error(other_api.post(f"{_one(matched.pk)}/cancel"), 404, "not_found")
    assert other_api.get(URL).json()["results"] == []
    assert Disclosure.objects.get(pk=matched.pk).state == "done"
    assert Finding.objects.filter(disclosure=matched).exists()


@pytest.mark.parametrize(
    "method, path",
    [("get", ""), ("post", ""), ("get", "/1"), ("get", "/1/exclusions"), ("post", "/1/cancel")],
)
def test_every_endpoint_needs_a_key(db, api_limits, method, path):
    url = URL + path
    _error(getattr(Client(), method)(url), 401, "missing_key")
    bad = Client(HTTP_AUTHORIZATION="Bearer ccp_00000000_nope")
    _error(getattr(bad, method)(url), 401, "invalid_key")


def test_a_submission_without_a_key_is_refused_before_the_body_is_read(api_limits, db, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the body was read")

    monkeypatch.setattr(ManifestUploadHandler, "receive_data_chunk", boom)
    _error(Client().post(URL, _fields()), 401, "missing_key")
    assert not Disclosure.objects.exists()
