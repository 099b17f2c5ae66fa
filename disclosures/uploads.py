"""A manifest's upload, from the API or the dashboard's form: streamed to a temporary file (never
held in memory), its SHA-256 computed on the way, and refused at the first chunk past
``DISCLOSURE_MAX_MANIFEST_BYTES`` — the vetting handler of works' uploads with the manifest's
policy: any content (CSV, JSON Lines, Parquet, gzip: the worker tells them apart from the
bytes, ``manifests.py``), nothing empty, one limit."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from works.filetypes import FileType
from works.uploads import VettingUploadHandler

FIELD = "manifest"
MANIFEST = FileType(
    "manifest", "manifest", "application/octet-stream", (".csv",), "a dataset manifest"
)
EMPTY = "The manifest is empty."
# A multipart body's boundaries, headers and the other fields, beside its manifest.
MULTIPART_OVERHEAD = 256 * 1024


def too_large_message() -> str:
    return (
        "The manifest is too large: the limit is "
        f"{filesizeformat(settings.DISCLOSURE_MAX_MANIFEST_BYTES)}."
    )


def _accept(head: bytes) -> FileType:
    if not head:
        raise ValidationError(EMPTY, code="empty")
    return MANIFEST


class ManifestUploadHandler(VettingUploadHandler):
    """``too_large`` says whether the manifest was refused for its size (the API's 413)."""

    too_large = False

    def _too_big_message(self) -> str:
        self.too_large = True
        return too_large_message()


def install(request) -> ManifestUploadHandler:
    """Put the manifest's handler in charge of ``request``'s files; call before reading POST."""
    limit = settings.DISCLOSURE_MAX_MANIFEST_BYTES
    handler = ManifestUploadHandler(
        request, quota_left=limit + 1, max_bytes={MANIFEST.family: limit}, accept=_accept
    )
    request.upload_handlers = [handler]
    return handler


def declared_too_large(request) -> bool:
    """The body's ``Content-Length`` says already that the manifest cannot fit."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    return declared > settings.DISCLOSURE_MAX_MANIFEST_BYTES + MULTIPART_OVERHEAD
