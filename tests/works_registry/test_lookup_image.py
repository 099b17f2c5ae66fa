"""POST /api/v1/lookup/image (docs/api.md, "Works registry"): one image, sent as the raw body or
as the multipart field ``image``, hashed as the portal hashes uploads and answered like one
lookup item — and every way an image can be wrong refused with a 4xx, never a 500."""

from http import HTTPStatus

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from notices.services import api_key_revoke
from tests import factories
from tests.works import files
from works.fingerprints import hamming, image_fingerprint, to_unsigned64
from works.models import WorkFile, phash_blocks

URL = "/api/v1/lookup/image"
MAX_BYTES = 20 * 2**20


@pytest.fixture
def picture():
    return files.natural_image((2001, 1333), seed=3)


@pytest.fixture
def uploaded(client, creator, tmp_path, picture, django_capture_on_commit_callbacks):
    """A photograph registered by the creator through the real form (hashed by the worker)."""
    path = files.make_jpeg(tmp_path / "harbour.jpg", image=picture, quality=90)
    client.force_login(creator)
    with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("works:create"), {"title": "Harbour", "kind": "photograph", "file": handle}
        )
    assert response.status_code == HTTPStatus.FOUND, response.content[-2000:]
    client.logout()
    work_file = creator.works.get(title="Harbour").file
    assert work_file.phash is not None, work_file.error
    return work_file.work


def _copy(picture: Image.Image) -> bytes:
    """What a dataset holds: the picture at ¾ size, re-encoded as JPEG quality 70."""
    small = picture.resize((picture.width * 3 // 4, picture.height * 3 // 4))
    return files.image_bytes(small, "JPEG", quality=70)


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    return body["error"]


def _only_work(response, work) -> dict:
    assert response.status_code == HTTPStatus.OK, response.content[:500]
    body = response.json()
    assert body["matched"] is True
    assert body["truncated"] is False
    assert [w["public_id"] for w in body["works"]] == [work.public_id]
    found = body["works"][0]
    assert found["match"]["kind"] == "phash"
    assert 0 <= found["match"]["distance"] <= settings.PHASH_MAX_DISTANCE
    assert found["decision"]["train-genai"]["choice"] in ("allow", "licence", "deny")
    return found


def test_a_reencoded_copy_sent_as_the_body_finds_its_work(api, uploaded, picture):
    response = api.post(URL, _copy(picture), content_type="image/jpeg")

    _only_work(response, uploaded)


def test_a_reencoded_copy_sent_as_a_multipart_field_finds_its_work(api, uploaded, picture):
    image = SimpleUploadedFile("copy.jpg", _copy(picture), content_type="image/jpeg")

    response = api.post(URL, {"image": image})

    _only_work(response, uploaded)


def test_a_png_copy_sent_with_a_generic_image_type_finds_its_work(api, uploaded, picture):
    response = api.post(URL, files.image_bytes(picture, "PNG"), content_type="image/png")

    _only_work(response, uploaded)


def test_an_unrelated_image_matches_nothing(api, uploaded):
    other = files.image_bytes(files.natural_image((800, 600), seed=42), "JPEG", quality=80)

    response = api.post(URL, other, content_type="image/jpeg")

    assert response.status_code == HTTPStatus.OK
    assert response.json() == {"matched": False, "works": [], "truncated": False}


def _work_with_phash(creator, phash: int, title: str):
    work = factories.WorkFactory(owner=creator, title=title, kind="photograph")
    WorkFile.objects.create(
        work=work,
        status=WorkFile.Status.READY,
        original_name=f"{title}.jpg",
        size=1,
        family="image",
        format="jpeg",
        mime="image/jpeg",
        phash=phash - (1 << 64) if phash >= 1 << 63 else phash,
        **{f"phash_b{i}": b for i, b in enumerate(phash_blocks(phash))},
    )
    return work


def test_works_are_ordered_by_distance_then_registration(api, creator, tmp_path, picture):
    data = _copy(picture)
    path = tmp_path / "copy.jpg"
    path.write_bytes(data)
    sent = image_fingerprint(path, max_pixels=settings.WORKS_IMAGE_MAX_PIXELS).phash
    three = _work_with_phash(creator, sent ^ 0b111, "three bits")
    exact = _work_with_phash(creator, sent, "exact")
    one_a = _work_with_phash(creator, sent ^ (1 << 40), "one bit")
    one_b = _work_with_phash(creator, sent ^ 1, "one bit too")
    _work_with_phash(creator, sent ^ 0b11111, "five bits: too far")

    response = api.post(URL, data, content_type="image/jpeg")

    assert response.status_code == HTTPStatus.OK
    works = response.json()["works"]
    assert [w["public_id"] for w in works] == [
        exact.public_id,
        one_a.public_id,
        one_b.public_id,
        three.public_id,
    ]
    assert [w["match"]["distance"] for w in works] == [0, 1, 1, 3]
    for work in works:
        stored = WorkFile.objects.get(work__public_id=work["public_id"]).phash
        assert hamming(to_unsigned64(stored), sent) == work["match"]["distance"]


# --- Refusals ----------------------------------------------------------------------------------


def test_no_key_is_refused(api_limits, uploaded, picture):
    response = Client().post(URL, _copy(picture), content_type="image/jpeg")

    _error(response, HTTPStatus.UNAUTHORIZED, "missing_key")


def test_a_revoked_key_is_refused_at_once(api, developer_key, uploaded, picture):
    assert api.post(URL, _copy(picture), content_type="image/jpeg").status_code == HTTPStatus.OK
    api_key_revoke(actor=developer_key[2], key=developer_key[0])

    response = api.post(URL, _copy(picture), content_type="image/jpeg")

    _error(response, HTTPStatus.UNAUTHORIZED, "invalid_key")


def test_a_png_bomb_is_refused_before_it_is_decoded(api, tmp_path):
    bomb = files.make_png_bomb(tmp_path / "bomb.png", size=(20000, 20000)).read_bytes()

    response = api.post(URL, bomb, content_type="image/png")

    error = _error(response, HTTPStatus.BAD_REQUEST, "invalid_image")
    assert "megapixels" in error["message"]


def test_an_image_over_the_apis_own_pixel_limit_is_refused_undecoded(api, tmp_path):
    """Uploads may have 150 megapixels (decoded by a worker); an image sent to the API is
    decoded in the web process, so it may have 50."""
    big = files.make_png_bomb(tmp_path / "big.png", size=(8000, 7000)).read_bytes()  # 56 MP

    response = api.post(URL, big, content_type="image/png")

    error = _error(response, HTTPStatus.BAD_REQUEST, "invalid_image")
    assert "the limit is 50 megapixels" in error["message"]


def test_a_truncated_image_is_refused(api, tmp_path, picture):
    path = files.make_jpeg(tmp_path / "cut.jpg", image=picture)
    files.truncate(path, keep=0.5)

    response = api.post(URL, path.read_bytes(), content_type="image/jpeg")

    error = _error(response, HTTPStatus.BAD_REQUEST, "invalid_image")
    assert "truncated" in error["message"] or "damaged" in error["message"]


def test_a_corrupted_jpeg_is_answered_or_refused_never_a_server_error(api, picture):
    data = files.image_bytes(picture, "JPEG", quality=80)
    corrupt = data[:600] + bytes(range(256)) * 40 + data[600 + 256 * 40 :]

    response = api.post(URL, corrupt, content_type="image/jpeg")

    assert response.status_code in (HTTPStatus.OK, HTTPStatus.BAD_REQUEST), response.content
    if response.status_code == HTTPStatus.BAD_REQUEST:
        _error(response, HTTPStatus.BAD_REQUEST, "invalid_image")


def test_html_named_jpg_is_refused_as_not_an_image(api, tmp_path):
    html = files.make_html(tmp_path / "cat.jpg").read_bytes()
    upload = SimpleUploadedFile("cat.jpg", html, content_type="image/jpeg")

    as_field = api.post(URL, {"image": upload})
    as_body = api.post(URL, html, content_type="image/jpeg")

    for response in (as_field, as_body):
        error = _error(response, HTTPStatus.BAD_REQUEST, "invalid_image")
        assert "not an image" in error["message"]


def test_an_empty_body_is_refused(api):
    response = api.generic("POST", URL, b"", CONTENT_TYPE="image/jpeg")

    _error(response, HTTPStatus.BAD_REQUEST, "invalid_image")


def test_a_body_over_20_mib_is_refused(api, picture):
    data = files.image_bytes(picture, "PNG")
    too_big = data + b"\x00" * (MAX_BYTES + 1 - len(data))

    response = api.post(URL, too_big, content_type="image/png")

    error = _error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large")
    assert "20 MiB" in error["message"]


def test_a_multipart_image_over_20_mib_is_refused(api, picture):
    data = files.image_bytes(picture, "PNG")
    upload = SimpleUploadedFile("big.png", data + b"\x00" * (MAX_BYTES + 1 - len(data)))

    response = api.post(URL, {"image": upload})

    _error(response, HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "too_large")


def test_a_body_of_another_type_is_refused(api, picture):
    data = files.image_bytes(picture, "PNG")

    for content_type in ("application/json", "text/plain", "application/octet-stream"):
        response = api.post(URL, data, content_type=content_type)
        _error(response, HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")


def test_a_multipart_form_without_an_image_field_is_refused(api, picture):
    upload = SimpleUploadedFile("copy.png", files.image_bytes(picture, "PNG"))

    response = api.post(URL, {"picture": upload})

    error = _error(response, HTTPStatus.BAD_REQUEST, "invalid")
    assert "image" in error["fields"]


def test_get_is_not_allowed(api):
    response = api.get(URL)

    _error(response, HTTPStatus.METHOD_NOT_ALLOWED, "method_not_allowed")
    assert "POST" in response["Allow"]
