"""Fingerprints find a work again after the usual changes (resizing, re-compression,
brightening) and tell different works apart; thumbnails carry no metadata."""

import hashlib
import io
import itertools
import math
import random

import pytest
from django.core.exceptions import ValidationError
from PIL import ExifTags, Image, ImageEnhance

from tests.works import files
from works.fingerprints import (
    hamming,
    image_fingerprint,
    phash,
    sha256_file,
    to_signed64,
    to_unsigned64,
)

MAX_PIXELS = 150_000_000


def fingerprint(path, **kwargs):
    return image_fingerprint(path, max_pixels=MAX_PIXELS, **kwargs)


def test_sha256_matches_hashlib_across_chunk_boundaries(tmp_path):
    data = random.Random(3).randbytes(2_500_000)  # two and a half 1 MiB chunks
    path = tmp_path / "song.wav"
    path.write_bytes(data)

    assert sha256_file(path) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_phash_survives_resizing_recompression_and_brightening(tmp_path, seed):
    picture = files.natural_image((1200, 800), seed)
    original = fingerprint(files.make_jpeg(tmp_path / "original.jpg", image=picture))
    copies = {
        "half size": files.make_jpeg(
            tmp_path / "half.jpg", image=picture.resize((600, 400), Image.Resampling.LANCZOS)
        ),
        "quality 60": files.make_jpeg(tmp_path / "q60.jpg", image=picture, quality=60),
        "10% brighter": files.make_jpeg(
            tmp_path / "bright.jpg", image=ImageEnhance.Brightness(picture).enhance(1.1)
        ),
        "as PNG": files.make_png(tmp_path / "copy.png", image=picture),
    }

    distances = {name: hamming(original.phash, fingerprint(p).phash) for name, p in copies.items()}

    assert max(distances.values()) <= 4, distances


def test_phash_tells_different_pictures_apart(tmp_path):
    hashes = [
        fingerprint(files.make_jpeg(tmp_path / f"{seed}.jpg", size=(600, 400), seed=seed)).phash
        for seed in range(5)
    ]

    distances = [hamming(a, b) for a, b in itertools.combinations(hashes, 2)]

    assert min(distances) > 10, distances


def _reference_phash(image: Image.Image) -> int:
    """The textbook definition: the full 32 × 32 DCT-II, then its top-left 8 × 8 block."""
    grey = image.convert("L").resize((32, 32), Image.Resampling.LANCZOS)
    pixels = [list(grey.tobytes()[y * 32 : (y + 1) * 32]) for y in range(32)]
    dct = [
        [
            sum(
                pixels[y][x]
                * math.cos(math.pi * (2 * y + 1) * u / 64)
                * math.cos(math.pi * (2 * x + 1) * v / 64)
                for y in range(32)
                for x in range(32)
            )
            for v in range(32)
        ]
        for u in range(8)
    ]
    low = [dct[u][v] for u in range(8) for v in range(8)]
    median = sorted(low)[31] / 2 + sorted(low)[32] / 2
    return int("".join("1" if c > median else "0" for c in low), 2)


@pytest.mark.parametrize("seed", [4, 5])
def test_phash_equals_the_textbook_dct_hash(seed):
    picture = files.natural_image((320, 240), seed)

    assert phash(picture) == _reference_phash(picture)


def _exif(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Artist] = "Alice Example"
    exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 0.0)
    return exif


def test_thumbnail_is_a_480_pixel_jpeg_without_metadata(tmp_path):
    path = files.make_jpeg(tmp_path / "photo.jpg", size=(1600, 1000), exif=_exif(1))
    assert b"Alice Example" in path.read_bytes()

    result = fingerprint(path)

    thumbnail = Image.open(io.BytesIO(result.thumbnail))
    assert thumbnail.format == "JPEG"
    assert thumbnail.mode == "RGB"
    assert thumbnail.size == (480, 300)
    assert not thumbnail.getexif()
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(thumbnail.info)
    assert b"Alice Example" not in result.thumbnail
    assert (result.width, result.height) == (1600, 1000)


def test_thumbnail_and_size_follow_exif_orientation(tmp_path):
    """Orientation 6: the camera stored the picture on its side; shown turned 90° clockwise,
    so the stored top edge (painted red here) ends up on the right."""
    picture = files.natural_image((1200, 800), 3)
    picture.paste((255, 0, 0), (0, 0, 1200, 120))
    path = files.make_jpeg(tmp_path / "turned.jpg", image=picture, exif=_exif(6))

    result = fingerprint(path)

    thumbnail = Image.open(io.BytesIO(result.thumbnail))
    assert (result.width, result.height) == (800, 1200)
    assert thumbnail.size == (320, 480)
    red, green, blue = thumbnail.getpixel((315, 240))
    assert red > 200 and green < 60 and blue < 60
    assert thumbnail.getpixel((5, 240)) != pytest.approx((255, 0, 0), abs=60)


def test_small_images_are_not_enlarged(tmp_path):
    result = fingerprint(files.make_png(tmp_path / "icon.png", size=(200, 120)))

    assert Image.open(io.BytesIO(result.thumbnail)).size == (200, 120)


def test_truncated_jpeg_is_refused_when_decoded(tmp_path):
    path = files.truncate(files.make_jpeg(tmp_path / "cut.jpg"), keep=0.7)

    with pytest.raises(ValidationError) as caught:
        fingerprint(path)

    assert caught.value.messages[0].startswith("This image is damaged or truncated:")


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    path = files.make_png_bomb(tmp_path / "bomb.png", size=(20000, 20000))

    with pytest.raises(ValidationError) as caught:
        fingerprint(path)

    assert "400 megapixels" in caught.value.messages[0]


def test_non_image_is_refused(tmp_path):
    with pytest.raises(ValidationError, match="a PDF document, not an image"):
        fingerprint(files.make_pdf(tmp_path / "x.jpg"))


@pytest.mark.parametrize(
    "name, make",
    [
        ("cmyk.jpg", lambda p, im: files.make_jpeg(p, image=im, mode="CMYK")),
        ("palette.gif", lambda p, im: files.make_gif(p, image=im)),
        ("animated.gif", lambda p, im: files.make_gif(p, image=im, frames=3)),
        ("animated.webp", lambda p, im: files.make_webp(p, image=im, frames=3)),
        ("deep.tif", lambda p, im: files.make_tiff(p, image=im, bits=16)),
        ("grey.png", lambda p, im: files.make_png(p, image=im, mode="L")),
        ("bilevel.png", lambda p, im: files.make_png(p, image=im, mode="1")),
    ],
)
def test_other_modes_and_first_frames_hash_like_the_original(tmp_path, name, make):
    picture = files.natural_image((900, 600), 11)
    original = fingerprint(files.make_jpeg(tmp_path / "original.jpg", image=picture))

    result = fingerprint(make(tmp_path / name, picture))

    assert (result.width, result.height) == (900, 600)
    assert Image.open(io.BytesIO(result.thumbnail)).size == (480, 320)
    limit = 12 if name == "bilevel.png" else 4  # black and white dots keep only the layout
    assert hamming(original.phash, result.phash) <= limit


def test_transparent_png_is_flattened_on_white(tmp_path):
    path = files.make_png(tmp_path / "logo.png", size=(800, 600), mode="RGBA")  # clear on right

    thumbnail = Image.open(io.BytesIO(fingerprint(path).thumbnail))

    assert thumbnail.getpixel((479, 180)) == pytest.approx((255, 255, 255), abs=8)
    assert thumbnail.getpixel((0, 180)) != pytest.approx((255, 255, 255), abs=30)


def test_hash_fits_a_signed_bigint_column_and_back():
    for value in (0, 1, (1 << 63) - 1, 1 << 63, (1 << 64) - 1, 0x87DAE4461773119D):
        signed = to_signed64(value)
        assert -(1 << 63) <= signed < 1 << 63
        assert to_unsigned64(signed) == value
    assert to_signed64((1 << 64) - 1) == -1
    with pytest.raises(ValueError):
        to_signed64(1 << 64)
    with pytest.raises(ValueError):
        to_unsigned64(1 << 63)


def test_hamming_counts_differing_bits():
    assert hamming(0b1011, 0b0001) == 2
    assert hamming((1 << 64) - 1, 0) == 64
