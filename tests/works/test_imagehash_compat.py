"""A pipeline computes the portal's pHash with the real ``imagehash`` library: the same 64 bits
for the same file, and copies of an uploaded image (re-encoded, resized, EXIF-rotated) found
within the portal's configured distance. See docs/fingerprints.md, "Computing the hash in a
pipeline"."""

import io
from http import HTTPStatus

import pytest
from django.conf import settings
from django.urls import reverse
from PIL import Image, ImageOps

from tests.works import files
from works.conflicts import phash_matches
from works.fingerprints import image_fingerprint, phash, to_unsigned64

imagehash = pytest.importorskip("imagehash")  # a test dependency (pyproject's test extra)


def pipeline_phash(data: bytes) -> int:
    """What docs/fingerprints.md tells a pipeline to run, step by step."""
    image = ImageOps.exif_transpose(Image.open(io.BytesIO(data)))
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        image = Image.alpha_composite(Image.new("RGBA", image.size, "white"), image.convert("RGBA"))
    return int(str(imagehash.phash(image.convert("RGB"))), 16)


@pytest.fixture
def upload(client, creator, tmp_path, django_capture_on_commit_callbacks):
    """``upload(name, data)`` registers a work with that file through the real form, as the
    creator, and returns its processed file."""
    client.force_login(creator)

    def _upload(name: str, data: bytes):
        path = tmp_path / name
        path.write_bytes(data)
        with open(path, "rb") as handle, django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("works:create"), {"title": name, "kind": "photograph", "file": handle}
            )
        assert response.status_code == HTTPStatus.FOUND, response.content[-2000:]
        work_file = creator.works.get(title=name).file
        assert work_file.phash is not None, work_file.error
        return work_file

    return _upload


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def _transparent(picture: Image.Image) -> Image.Image:
    """The picture fading from clear (left) to opaque (right)."""
    rgba = picture.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").rotate(90).resize(picture.size))
    return rgba


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _jpeg(image: Image.Image, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", **options)
    return out.getvalue()


# Sizes large enough for the portal to shrink the picture before hashing (the cases where a
# shortcut would show), and small ones.
@pytest.mark.parametrize(
    "seed, size, form",
    [
        (0, (2001, 1333), "jpeg"),
        (5, (2001, 1333), "jpeg"),
        (8, (4000, 3000), "jpeg"),
        (2, (640, 480), "jpeg"),
        (1, (2001, 1333), "transparent png"),
        (5, (3000, 2000), "transparent png"),
        (7, (333, 517), "transparent png"),
        (3, (3000, 2000), "exif 6"),
        (4, (2001, 1333), "exif 6"),
        (9, (1200, 800), "exif 3"),
        (10, (1500, 1000), "exif 8"),
        (11, (1500, 1000), "exif 2"),
        (12, (2001, 1333), "palette gif"),
        (13, (2001, 1333), "greyscale png"),
        (14, (2001, 1333), "cmyk jpeg"),
    ],
)
def test_the_portals_phash_of_a_file_equals_imagehash_bit_for_bit(tmp_path, seed, size, form):
    picture = files.natural_image(size, seed)
    if form == "jpeg":
        data = _jpeg(picture, quality=90)
    elif form == "transparent png":
        data = _png(_transparent(picture))
    elif form == "palette gif":
        data = files.make_gif(tmp_path / "p.gif", image=picture).read_bytes()
    elif form == "greyscale png":
        data = _png(picture.convert("L"))
    elif form == "cmyk jpeg":
        data = _jpeg(picture.convert("CMYK"), quality=90)
    else:
        data = _jpeg(picture, quality=90, exif=_exif(int(form.split()[1])))
    path = tmp_path / "original"
    path.write_bytes(data)

    stored = image_fingerprint(path, max_pixels=settings.WORKS_IMAGE_MAX_PIXELS).phash

    assert f"{stored:016x}" == f"{pipeline_phash(data):016x}"


@pytest.mark.parametrize("seed", range(6))
def test_phash_of_a_pillow_image_equals_imagehash(seed):
    picture = files.natural_image((800, 600), seed)

    assert phash(picture) == int(str(imagehash.phash(picture)), 16)


def _copies(picture: Image.Image) -> dict[str, bytes]:
    """What a pipeline meets elsewhere: the same picture re-encoded, resized, rotated."""
    width, height = picture.size
    three_quarters = picture.resize((width * 3 // 4, height * 3 // 4), Image.Resampling.LANCZOS)
    # Stored on its side, with EXIF orientation 6 ("turn 90° clockwise to show").
    on_its_side = picture.transpose(Image.Transpose.ROTATE_90)
    return {
        "jpeg quality 70, 3/4 size": _jpeg(three_quarters, quality=70),
        "png": _png(picture),
        "png, 3/4 size": _png(three_quarters),
        "exif-rotated jpeg": _jpeg(on_its_side, quality=85, exif=_exif(6)),
    }


@pytest.mark.parametrize(
    "seed, size, name, make",
    [
        (21, (1600, 1000), "a.jpg", lambda p: _jpeg(p, quality=92)),
        (22, (3000, 2000), "b.jpg", lambda p: _jpeg(p, quality=92)),
        (23, (900, 1200), "c.jpg", lambda p: _jpeg(p, quality=92)),
        (24, (1200, 800), "d.png", lambda p: _png(p)),
        (25, (2400, 1600), "e.jpg", lambda p: _jpeg(p, quality=92, exif=_exif(1))),
    ],
)
def test_copies_of_an_uploaded_image_find_their_work_within_the_configured_distance(
    upload, seed, size, name, make
):
    picture = files.natural_image(size, seed)
    work_file = upload(name, make(picture))
    distance = settings.PHASH_MAX_DISTANCE

    for copy, data in _copies(picture).items():
        found = phash_matches(pipeline_phash(data), max_distance=distance)

        assert [f.pk for f, _ in found] == [work_file.pk], copy
        assert found[0][1] <= distance, copy


def test_a_different_picture_does_not_find_the_work(upload):
    upload("harbour.jpg", _jpeg(files.natural_image((1600, 1000), 31)))
    other = _jpeg(files.natural_image((1600, 1000), 32), quality=70)

    assert phash_matches(pipeline_phash(other)) == []


def test_stored_and_pipeline_hashes_of_a_transparent_upload_agree(upload):
    data = _png(_transparent(files.natural_image((2001, 1333), 1)))

    work_file = upload("logo.png", data)

    assert to_unsigned64(work_file.phash) == pipeline_phash(data)
