"""Every registry answer about a work — POST /api/v1/lookup, POST /api/v1/lookup/image and GET
/api/v1/works/<id> — carries the work's public signals: what its public page sends, the same for
every caller, even one holding a licence whose own decision differs."""

import io
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from consent.models import Preference
from tests import factories
from tests.consent import signal_parsers as read
from tests.works import files
from works.fingerprints import image_phash
from works.models import WorkIdentifier

from .test_lookup import _file as work_file
from .test_one_work import _grant as grant

ISBN = "9780306406157"
# The built-in default (every AI use denied, search allowed) and the creator's choice below
# (training any AI only under licence) say the same publicly: no free AI use.
PUBLIC = {
    "content_usage": "train-ai=n, ai-use=n, search=y",
    "content_signal": "search=yes, ai-input=no, ai-train=no",
    "tdm_reservation": 1,
    "rsl_permits": ["search"],
    "rsl_prohibits": ["ai-train", "ai-input"],
}


@pytest.fixture
def picture():
    return files.natural_image((640, 480), seed=5)


@pytest.fixture
def book(creator, picture):
    """A work with an ISBN and an image (its pHash as uploads get it), training AI only under
    licence by its creator's default."""
    work = factories.WorkFactory(owner=creator, title="The Long Shore", kind="book")
    WorkIdentifier.objects.create(work=work, scheme="isbn", value=ISBN)
    work_file(work, phash=image_phash(io.BytesIO(files.image_bytes(picture)), max_pixels=10**7))
    Preference.objects.create(owner=creator, work=None, use="train-ai", choice="licence")
    return work


@pytest.fixture
def licensed(creator, book, developer_key):
    """A licence to the first developer for every AI use of ``book`` (``LIC-3-1``)."""
    return grant(
        creator, developer_key[0].developer, ["train-ai", "ai-input", "search"], works=[book]
    )


def _lookup(client) -> dict:
    response = client.post("/api/v1/lookup", {"items": [{"isbn": ISBN}]}, "application/json")
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    ((work,),) = [r["works"] for r in response.json()["results"]]
    return work


def _image(client, picture) -> dict:
    body = files.image_bytes(picture, "JPEG", quality=85)
    response = client.post("/api/v1/lookup/image", body, content_type="image/jpeg")
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    (work,) = response.json()["works"]
    return work


def _one(client, book) -> dict:
    response = client.get(f"/api/v1/works/{book.public_id}")
    assert response.status_code == HTTPStatus.OK, response.content[:300]
    return response.json()


def test_a_licensee_sees_its_own_decision_and_the_public_signals(
    api, api_limits, book, licensed, picture
):
    for work in (_lookup(api), _image(api, picture), _one(api, book)):
        # Its own decision: the licence opens every AI use to it…
        assert work["decision"]["train-genai"]["source"] == "grant"  # train-ai covers it
        assert work["decision"]["ai-input"] == {
            "choice": "allow",
            "source": "grant",
            "licence_ref": "LIC-3-1",
        }
        # …while the work's public signals stay what its page says to everyone.
        assert work["signals"] == PUBLIC


def test_every_caller_gets_the_same_signals(api, other_api, api_limits, book, licensed, picture):
    anonymous = Client()
    answers = [
        _lookup(api),
        _lookup(other_api),
        _image(api, picture),
        _image(other_api, picture),
        _one(api, book),
        _one(other_api, book),
        _one(anonymous, book),
    ]
    assert all(work["signals"] == PUBLIC for work in answers)
    assert _one(other_api, book)["decision"]["ai-input"]["choice"] == "deny"


def test_the_signals_are_those_the_works_page_sends(client, api, creator, book, licensed):
    Preference.objects.create(owner=creator, work=book, use="ai-input", choice="allow")
    Preference.objects.create(owner=creator, work=book, use="search", choice="deny")
    signals = _one(api, book)["signals"]
    page = client.get(reverse("works:public", args=[book.public_id]))
    assert signals["content_usage"] == page["Content-Usage"]
    assert signals["tdm_reservation"] == int(page["tdm-reservation"])
    licence = read.rsl(client.get(reverse("consent:licence", args=[book.public_id])).content)
    assert set(signals["rsl_permits"]) == {t for t, c in licence["tokens"].items() if c == "allow"}
    assert set(signals["rsl_prohibits"]) == {
        t for t, c in licence["tokens"].items() if c != "allow"
    }
    assert signals == {
        "content_usage": "train-ai=n, ai-use=y, search=n",
        "content_signal": "search=no, ai-input=yes, ai-train=no",
        "tdm_reservation": 1,
        "rsl_permits": ["ai-input"],
        "rsl_prohibits": ["ai-train", "search"],
    }


def test_the_openapi_document_describes_the_signals(client, db):
    schemas = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "signals" in schemas["WorkOut"]["properties"]
    assert set(schemas["SignalsOut"]["properties"]) == set(PUBLIC)
    assert set(schemas["SignalsOut"]["required"]) == set(PUBLIC)
