"""Evidence files of removal requests (screenshots, model cards, saved pages): checked by their
content, not their name — an image (JPEG, PNG, WebP, GIF), a PDF or plain text — and limited in
size, before anything is stored."""

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from works.filetypes import sniff
from works.filetypes.formats import GIF, JPEG, PDF, PNG, SNIFF_BYTES, TXT, WEBP

ACCEPTED = {t.format: t for t in (JPEG, PNG, WEBP, GIF, PDF, TXT)}


@dataclass(frozen=True)
class EvidenceType:
    content_type: str
    extension: str

    def safe_name(self, name: str) -> str:
        stem = re.sub(r"[^A-Za-z0-9._-]+", "-", PurePath(name or "evidence").stem).strip(".-")
        return f"{(stem or 'evidence')[:80]}{self.extension}"


def vet_upload(upload: UploadedFile) -> tuple[EvidenceType, str, int]:
    """``(type, sha256, size)`` of an acceptable evidence file; ``ValidationError`` otherwise."""
    limit = settings.REMOVALS_EVIDENCE_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(
            f"“{upload.name}” is larger than {limit // 2**20} MB: attach a smaller file."
        )
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
    digest = hashlib.sha256(head)
    size = len(head)
    for chunk in iter(lambda: upload.read(64 * 1024), b""):
        size += len(chunk)
        if size > limit:
            raise ValidationError(
                f"“{upload.name}” is larger than {limit // 2**20} MB: attach a smaller file."
            )
        digest.update(chunk)
    upload.seek(0)
    return EvidenceType(filetype.mime, filetype.extensions[0]), digest.hexdigest(), size
