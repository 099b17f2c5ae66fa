"""Evidence files are checked whole before anything is stored: an image is decoded in full (a
truncated or corrupt one is refused, and so is a small file announcing a huge picture), a PDF
must end with its %%EOF marker, and text must be UTF-8. A good file is kept byte for byte."""

import io
import struct
import zlib
from http import HTTPStatus

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from removals import services
from removals.models import RemovalEvidence
from tests.storage import followed, stored_names

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _image(fmt: str, size=(64, 48)) -> bytes:
    # Noise, so that the compressed data is long enough to cut in half meaningfully.
    image = Image.effect_noise(size, 64).convert("RGB")
    buffer = io.BytesIO()
    image.save(buffer, fmt)
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def _png_bomb(width=50_000, height=50_000) -> bytes:
    """A well-formed, few-hundred-byte PNG whose header announces width × height pixels (a
    first row of zeros compressed; the rest would be the same)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def _pdf(*, eof=True) -> bytes:
    body = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"% padding\n" * 20
    return body + b"trailer\n<< /Root 1 0 R >>\n" + (b"%%EOF\n" if eof else b"")


def _stored(settings) -> list[str]:
    return stored_names("removals")


@pytest.fixture
def draft(make_request):
    return make_request(submit=False)


def _add(draft, name, content, content_type="application/octet-stream"):
    return services.evidence_add(
        actor=draft.creator,
        request=draft,
        upload=SimpleUploadedFile(name, content, content_type=content_type),
    )


def _truncated_jpeg() -> bytes:
    jpeg = _image("JPEG", size=(256, 192))
    cut = jpeg[: len(jpeg) // 2]
    with pytest.raises(OSError):  # Pillow itself cannot decode it
        Image.open(io.BytesIO(cut)).load()
    return cut


REFUSED = {
    "png-header-then-garbage": (
        "shot.png",
        lambda: PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + bytes(range(256)) * 8,
        "truncated or damaged",
    ),
    "truncated-jpeg": ("photo.jpg", _truncated_jpeg, "truncated or damaged"),
    "pdf-without-eof": ("model-card.pdf", lambda: _pdf(eof=False), "%%EOF"),
    "png-decompression-bomb": ("tiny.png", _png_bomb, "megapixels"),
    "latin-1-text": ("notes.txt", lambda: "Café crème, déjà vu\n".encode("latin-1"), "UTF-8"),
    "utf-16-text": ("notes.txt", lambda: "Used in the model card\n".encode("utf-16"), "UTF-8"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_a_damaged_file_is_refused_and_nothing_is_stored(draft, case, settings):
    name, make, words = REFUSED[case]
    content = make()

    with pytest.raises(ValidationError) as caught:
        _add(draft, name, content)

    message = " ".join(caught.value.messages)
    assert words in message and f"“{name}”" in message
    assert not RemovalEvidence.objects.exists() and _stored(settings) == []


def test_the_bomb_is_small_and_refused_before_decoding(draft, settings):
    bomb = _png_bomb()
    assert len(bomb) < 10_000
    with pytest.raises(ValidationError) as caught:
        _add(draft, "tiny.png", bomb)
    assert "50,000 × 50,000 pixels" in caught.value.messages[0]
    assert "40 megapixels" in caught.value.messages[0]


def test_the_pixel_limit_is_the_evidence_setting(draft, settings):
    settings.REMOVALS_EVIDENCE_MAX_PIXELS = 1000
    with pytest.raises(ValidationError) as caught:
        _add(draft, "screenshot.png", _image("PNG", size=(40, 30)))
    assert "40 × 30 pixels" in caught.value.messages[0]
    assert not RemovalEvidence.objects.exists() and _stored(settings) == []


@pytest.mark.parametrize(
    ("name", "make", "content_type"),
    [
        ("listing.png", lambda: _image("PNG"), "image/png"),
        ("photo.jpg", lambda: _image("JPEG"), "image/jpeg"),
        ("frame.gif", lambda: _image("GIF"), "image/gif"),
        ("frame.webp", lambda: _image("WEBP"), "image/webp"),
        ("model-card.pdf", _pdf, "application/pdf"),
        (
            "notes.txt",
            lambda: "Seen in the Books3 index — “The Lighthouse”.\n".encode(),
            "text/plain",
        ),
    ],
)
def test_a_good_file_is_accepted_and_kept_as_it_is(draft, name, make, content_type, settings):
    content = make()

    evidence = _add(draft, name, content)

    assert evidence.content_type == content_type
    assert evidence.size == len(content)
    with evidence.file.open("rb") as stored:
        assert stored.read() == content
    assert len(_stored(settings)) == 1


def test_a_pdf_with_padding_after_its_eof_marker_is_accepted(draft):
    evidence = _add(draft, "saved.pdf", _pdf() + b"\r\n" + b" " * 200)
    assert evidence.content_type == "application/pdf"


def test_the_edit_page_shows_why_a_truncated_jpeg_is_refused(client, draft, settings):
    client.force_login(draft.creator)
    cut = _truncated_jpeg()

    response = client.post(
        reverse("removals:edit", args=[draft.pk]),
        {
            "title": draft.title,
            "developers": [str(pk) for pk in draft.developers.values_list("pk", flat=True)],
            "asks": list(draft.asks),
            "where_used": draft.where_used,
            "notify_steps": list(draft.notify_steps),
            "evidence_note": "",
            "q": "",
            "evidence": SimpleUploadedFile("photo.jpg", cut, content_type="image/jpeg"),
            "action": "upload",
        },
    )

    page = response.content.decode()
    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "“photo.jpg” is truncated or damaged" in page
    assert 'aria-invalid="true"' in page
    assert not RemovalEvidence.objects.exists() and _stored(settings) == []


def test_their_evidence_downloads_privately_and_is_never_sniffed(client, draft):
    evidence = _add(draft, "notes.txt", b"Seen on 3 May at dataset.example/books3\n")
    assert evidence.content_type == "text/plain"
    client.force_login(draft.creator)

    response = client.get(reverse("removals:evidence", args=[draft.pk, evidence.pk]))
    got = followed(response)  # nosniff from the portal; a signed link's redirect is no-store

    assert got.status == HTTPStatus.OK
    assert got.disposition.startswith("attachment")
    assert got.content_type == "text/plain"
    assert got.body == b"Seen on 3 May at dataset.example/books3\n"
    if not got.via_bucket:
        assert response["Cache-Control"] == "private, no-store"
