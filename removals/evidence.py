"""Evidence files of removal requests (screenshots, model cards, saved pages): checked by their
content, not their name — an image (JPEG, PNG, WebP, GIF), a PDF or plain text — and limited in
size, before anything is stored. Then each is checked whole: an image is decoded in full (under
the works app's pixel limit, so a small file announcing a huge picture is refused before any
pixel is decoded), a PDF must end with its ``%%EOF`` marker, and text must be UTF-8; a truncated
or corrupt file is refused, with a message saying why."""

import codecs
import hashlib
import re
import struct
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, ImageFile

from works.filetypes import open_image, sniff
from works.filetypes.formats import GIF, JPEG, PDF, PNG, SNIFF_BYTES, TXT, WEBP, FileType

ACCEPTED = {t.format: t for t in (JPEG, PNG, WEBP, GIF, PDF, TXT)}
IMAGES = {JPEG.format, PNG.format, WEBP.format, GIF.format}
# A PDF ends with "%%EOF" (and perhaps a line ending or some padding) within its last bytes.
PDF_TAIL = 1024
_DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError)
_DECODE_ERRORS += (struct.error, MemoryError)


@dataclass(frozen=True)
class EvidenceType:
    content_type: str
    extension: str

    def safe_name(self, name: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", PurePath(name or "evidence").stem).strip(".-")
        return f"{(stem or 'evidence')[:80]}{self.extension}"


def storage_used(user_id: int):
    """The bytes of the evidence files of their requests (whoever attached them), as a one-row
    queryset: part of their storage allowance, like their works' files (registered with
    ``works.services.register_storage_counter`` in ``apps.py``)."""
    from django.db.models import Sum

    from .models import RemovalEvidence

    return (
        RemovalEvidence.objects.filter(request__creator_id=user_id)
        .order_by()
        .values("request__creator_id")
        .annotate(total=Sum("size"))
        .values("total")
    )


def _too_large(upload: UploadedFile, limit: int) -> ValidationError:
    return ValidationError(
        f"“{upload.name}” is larger than {limit // 2**20} MB: attach a smaller file.",
        code="too_large",
    )


def vet_upload(upload: UploadedFile) -> tuple[EvidenceType, str, int]:
    """``(type, sha256, size)`` of an acceptable evidence file; ``ValidationError`` otherwise."""
    limit = settings.REMOVALS_EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise _too_large(upload, limit)
    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    try:
        filetype = sniff(head)
    except ValidationError as exc:
        raise ValidationError(f"“{upload.name}”: {' '.join(exc.messages)}") from exc
    if filetype.format not in ACCEPTED:
        raise ValidationError(
            f"“{upload.name}” is {filetype.label}: attach an image, a PDF or a plain-text file."
        )
    text = codecs.getincrementaldecoder("utf-8-sig")() if filetype.format == TXT.format else None
    digest = hashlib.sha256(head)
    size = len(head)
    try:
        if text is not None:
            text.decode(head)
        for chunk in iter(lambda: upload.read(64 * 1024), b""):
            size += len(chunk)
            if size > limit:
                raise _too_large(upload, limit)
            digest.update(chunk)
            if text is not None:
                text.decode(chunk)
        if text is not None:
            text.decode(b"", final=True)
    except UnicodeDecodeError:
        raise ValidationError(
            f"“{upload.name}” is not UTF-8 text. Save it as UTF-8 (in most editors: Save As, "
            "then Encoding: UTF-8) and attach it again.",
            code="not_utf8",
        ) from None
    if filetype.format in IMAGES:
        _check_image(upload, filetype)
    elif filetype.format == PDF.format:
        _check_pdf(upload, size)
    upload.seek(0)
    return EvidenceType(filetype.mime, filetype.extensions[0]), digest.hexdigest(), size


class _KeepOpen:
    """The upload as Pillow reads it: some decoders close their file once the image is loaded,
    and the upload must stay open to be stored."""

    def __init__(self, file):
        self._file = file

    def read(self, *args):
        return self._file.read(*args)

    def seek(self, *args):
        return self._file.seek(*args)

    def tell(self):
        return self._file.tell()

    def close(self):
        pass


def _check_image(upload: UploadedFile, filetype: FileType) -> None:
    """Decode the whole image, as the works app's worker does: a truncated or corrupt image
    fails here. Its size is checked from the header first (``open_image``), against
    ``REMOVALS_EVIDENCE_MAX_PIXELS`` (a screenshot needs far fewer than a photograph of a work:
    decoding happens in the request), so a decompression bomb is refused before it is decoded."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # someone changed Pillow's global: we would miss damage
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    upload.seek(0)
    try:
        image = open_image(
            _KeepOpen(upload), filetype, max_pixels=settings.REMOVALS_EVIDENCE_MAX_PIXELS
        )
    except ValidationError as exc:
        raise ValidationError(
            f"“{upload.name}”: {' '.join(exc.messages)}",
            code=getattr(exc, "code", None) or "damaged",
        ) from None
    try:
        image.load()
    except Image.DecompressionBombError:
        raise ValidationError(
            f"“{upload.name}” is too large a picture to check: attach a smaller image.",
            code="too_many_pixels",
        ) from None
    except _DECODE_ERRORS:
        raise ValidationError(
            f"“{upload.name}” is truncated or damaged: it cannot be read as {filetype.label}. "
            "Attach the complete file.",
            code="damaged",
        ) from None
    finally:
        image.close()  # frees the decoded pixels now


def _check_pdf(upload: UploadedFile, size: int) -> None:
    upload.seek(max(0, size - PDF_TAIL))
    if b"%%EOF" not in upload.read(PDF_TAIL):
        raise ValidationError(
            f"“{upload.name}” is truncated or damaged: a PDF ends with an end-of-file marker "
            "(%%EOF) and this one has none. Attach the complete file.",
            code="truncated",
        )
