"""Fingerprints of a work's file: SHA-256 of the exact bytes, and for images a perceptual hash
(pHash) that survives resizing and re-compression, plus a clean thumbnail.

See docs/fingerprints.md for the algorithm in plain words. Changing any step of ``phash``
changes every stored hash: treat it as a data format.
"""

import hashlib
import io
import math
import os
import statistics
from dataclasses import dataclass, field
from typing import BinaryIO

from django.core.exceptions import ValidationError
from PIL import Image, ImageFile

from . import filetypes

CHUNK = 1 << 20
THUMBNAIL_QUALITY = 82
WHITE = (255, 255, 255, 255)

_HASH_INPUT = 32  # the greyscale square the DCT runs on
_HASH_SIDE = 8  # the lowest 8 × 8 frequencies make the 64 bits
_COS = tuple(
    tuple(math.cos(math.pi * (2 * x + 1) * u / (2 * _HASH_INPUT)) for x in range(_HASH_INPUT))
    for u in range(_HASH_SIDE)
)
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as f:
        while n := f.readinto(buffer):
            digest.update(view[:n])
    return digest.hexdigest()


@dataclass(frozen=True)
class ImageFingerprint:
    width: int  # as displayed, after EXIF orientation
    height: int
    phash: int  # unsigned 64-bit; to_signed64() for a BIGINT column
    thumbnail: bytes = field(repr=False)  # JPEG, no metadata


def image_fingerprint(
    source: str | os.PathLike | BinaryIO, *, max_pixels: int, thumb_size: int = 480
) -> ImageFingerprint:
    """Decode the image once in full (a truncated or corrupt file raises ``ValidationError``),
    then make the thumbnail from a reduced copy and the pHash from a full-size greyscale one
    (the bits ``imagehash`` gives for the same file). Animated images: first frame.
    ``source``: a path, or a seekable binary file (a stored file: ``accounts.storage.seekable``)."""
    if hasattr(source, "read"):
        width, height, small, grey = _decoded(source, max_pixels=max_pixels, thumb_size=thumb_size)
    else:
        with open(source, "rb") as f:
            width, height, small, grey = _decoded(f, max_pixels=max_pixels, thumb_size=thumb_size)
    return ImageFingerprint(
        width=width,
        height=height,
        phash=phash(grey),
        thumbnail=_thumbnail_jpeg(small, (width, height), thumb_size),
    )


def image_phash(f: BinaryIO, *, max_pixels: int) -> int:
    """The pHash of the image in the open binary file ``f`` (read from its start), decoded
    under the same checks as ``image_fingerprint`` — content sniffed, pixels counted from the
    header before decoding, a truncated or corrupt image refused (``ValidationError``) — and
    hashed the same way: the works registry's image lookup gives the bits an upload gets."""
    f.seek(0)
    try:
        filetype = filetypes.sniff(f.read(filetypes.SNIFF_BYTES))
    except ValidationError:  # its messages speak of uploading a work: not what a caller did
        filetype = None
    if filetype is None or filetype.family != "image":
        what = f"{filetype.label}, " if filetype is not None else ""
        raise ValidationError(
            f"This file is {what}not an image: send a JPEG, PNG, GIF, WebP or TIFF image.",
            code="not_image",
        )
    _, _, _, grey = _decoded(f, max_pixels=max_pixels, thumb_size=480)
    return phash(grey)


def _decoded(
    f: BinaryIO, *, max_pixels: int, thumb_size: int
) -> tuple[int, int, Image.Image, Image.Image]:
    """``(width, height, small RGB copy, full-size greyscale copy)`` as displayed (EXIF
    orientation applied) of the image in ``f``, or ``ValidationError``."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone changed Pillow's global: we would miss damage
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    f.seek(0)
    filetype = filetypes.sniff(f.read(filetypes.SNIFF_BYTES))
    if filetype.family != "image":
        raise ValidationError(f"This file is {filetype.label}, not an image.", code="not_image")
    f.seek(0)
    image = filetypes.open_image(f, filetype, max_pixels=max_pixels)  # header only
    try:
        image.load()
        orientation = _orientation(image)
        width, height = image.size
        factor = max(1, int(max(width, height) / thumb_size / 2))
        small, grey = _prepared(image, factor)
    except Image.DecompressionBombError:  # a later GIF frame larger than its header says
        raise ValidationError(
            "This image is too large to decode.", code="too_many_pixels"
        ) from None
    except _DECODE_ERRORS as exc:
        raise ValidationError(
            f"This image is damaged or truncated: {exc}.", code="damaged"
        ) from None
    finally:
        image.close()  # frees the full-size pixels now, not at garbage collection
    del image
    if orientation in _TRANSPOSE:
        small = small.transpose(_TRANSPOSE[orientation])
        grey = grey.transpose(_TRANSPOSE[orientation])
    if orientation >= 5:
        width, height = height, width
    return width, height, small, grey


def _orientation(image: Image.Image) -> int:
    try:
        value = int(image.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block is not a broken image
        return 1
    return value if 1 <= value <= 8 else 1


def _band_converter(image: Image.Image):
    """A function turning a band of ``image`` into RGB (transparency flattened on white)."""
    mode = image.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in image.info):

        def flatten(band):
            flat = Image.new("RGBA", band.size, WHITE)
            flat.alpha_composite(band.convert("RGBA"))
            return flat.convert("RGB")

        return flatten
    if mode.startswith("I;16"):
        return lambda band: band.convert("I").point(lambda v: v * (1 / 256)).convert("RGB")
    if mode in ("I", "F"):  # deep images: stretch the values present to 0–255
        low, high = image.getextrema()
        scale = 255 / (high - low) if high > low else 1.0
        return lambda band: (
            band.point(lambda v: v * scale - low * scale).convert("L").convert("RGB")
        )
    return lambda band: band.convert("RGB")


def _prepared(image: Image.Image, factor: int) -> tuple[Image.Image, Image.Image]:
    """An RGB copy ``factor`` times smaller (box average), for the thumbnail, and a full-size
    greyscale copy (1 byte a pixel), for the pHash: hashing the full-size picture, as
    ``imagehash`` does, gives a pipeline's bits exactly; a shrunk copy would not always.
    Modes that need converting are converted a band at a time, so there is never a second
    full-size colour copy in memory."""
    if image.mode in ("RGB", "L"):
        small = image.reduce(factor) if factor > 1 else image.copy()
        return (small if small.mode == "RGB" else small.convert("RGB")), image.convert("L")
    convert = _band_converter(image)
    width, height = image.size
    rows = max(1, (1 << 20) // (width * factor)) * factor  # about a megapixel a band
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    grey = Image.new("L", (width, height))
    for top in range(0, height, rows):
        band = convert(image.crop((0, top, width, min(height, top + rows))))
        grey.paste(band.convert("L"), (0, top))
        out.paste(band.reduce(factor) if factor > 1 else band, (0, top // factor))
    return out, grey


def _thumbnail_jpeg(small: Image.Image, size: tuple[int, int], thumb_size: int) -> bytes:
    """Longest side ``thumb_size`` (never enlarged), re-encoded, without any metadata."""
    width, height = size
    scale = min(1.0, thumb_size / max(width, height))
    target = (max(1, round(width * scale)), max(1, round(height * scale)))
    thumb = small if small.size == target else small.resize(target, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # Nothing from the original's info is passed on: no EXIF, ICC profile, XMP or comment.
    thumb.save(out, "JPEG", quality=THUMBNAIL_QUALITY, optimize=True)
    return out.getvalue()


def phash(image: Image.Image) -> int:
    """64-bit DCT perceptual hash (see docs/fingerprints.md).

    Greyscale (ITU-R 601-2 luma), 32 × 32 with Lanczos, 2-D DCT-II, the 8 × 8 lowest
    frequencies, each bit 1 when its coefficient is above the median of all 64 (DC included,
    as the imagehash library does), packed row by row, first coefficient in the highest bit.
    """
    if image.mode not in ("L", "RGB"):
        image = _band_converter(image)(image)  # transparency flattened on white, …
    if image.mode != "L":
        image = image.convert("L")
    grey = image.resize((_HASH_INPUT, _HASH_INPUT), Image.Resampling.LANCZOS)
    pixels = grey.tobytes()
    n = _HASH_INPUT
    # Along each row: rows[y][v] = Σx pixel[y][x]·cos(v, x); then down the columns.
    rows = [pixels[y * n : (y + 1) * n] for y in range(n)]
    rows = [[sum(c * p for c, p in zip(cv, row, strict=True)) for cv in _COS] for row in rows]
    coefficients = [
        sum(cu[y] * rows[y][v] for y in range(n)) for cu in _COS for v in range(_HASH_SIDE)
    ]
    median = statistics.median(coefficients)
    bits = 0
    for c in coefficients:
        bits = (bits << 1) | (c > median)
    return bits


def hamming(a: int, b: int) -> int:
    """How many of the 64 bits differ."""
    return (a ^ b).bit_count()


def to_signed64(u: int) -> int:
    """An unsigned 64-bit hash as the signed value a BIGINT column holds (same bits)."""
    if not 0 <= u < 1 << 64:
        raise ValueError(f"{u} is not an unsigned 64-bit value")
    return u - (1 << 64) if u >= 1 << 63 else u


def to_unsigned64(s: int) -> int:
    """The inverse of ``to_signed64``."""
    if not -(1 << 63) <= s < 1 << 63:
        raise ValueError(f"{s} is not a signed 64-bit value")
    return s & ((1 << 64) - 1)
