"""Uploads vetted while they stream in.

``VettingUploadHandler`` replaces Django's upload handlers for the upload views. As each chunk
arrives it sniffs the type from the first bytes (content, never the name), counts the bytes
against the limit of that file's family and the creator's remaining quota, and feeds SHA-256 —
so an oversized or unsupported file is refused at the first chunk past its limit, not after it
has been stored, and the hash costs no second read. A refused file is dropped (``SkipFile``)
with its reason kept in ``handler.errors`` for the form to show; the rest of the form still
arrives.
"""

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import SkipFile, TemporaryFileUploadHandler
from django.template.defaultfilters import filesizeformat

from .filetypes import SNIFF_BYTES, FileType, sniff

TOO_MANY_UPLOADS = (
    "You have uploaded a lot in the last hour; please wait a little and try again. Nothing "
    "from this file was kept."
)


def over_quota_message(quota_left: int) -> str:
    """The one message for a file that does not fit in what is left of their storage."""
    return (
        "This file would take you over your storage allowance: you have "
        f"{filesizeformat(max(quota_left, 0))} left."
    )


class VettingUploadHandler(TemporaryFileUploadHandler):
    """``accept(head) -> FileType`` decides what the file is from its first bytes (``sniff``
    unless told otherwise, e.g. the catalogue import's CSV-or-ZIP policy); ``max_bytes`` maps
    each family it can return to its limit. ``allowance()``, when given, is asked as each file
    begins (a form posted without one asks nothing): False refuses the file, as the hourly
    upload allowance does for removal evidence."""

    def __init__(
        self,
        request=None,
        *,
        quota_left: int,
        max_bytes: dict[str, int] | None = None,
        accept: Callable[[bytes], FileType] | None = None,
        allowance: Callable[[], bool] | None = None,
    ):
        super().__init__(request)
        self.quota_left = quota_left
        self.max_bytes = max_bytes or settings.WORKS_MAX_BYTES
        self.accept = accept or sniff
        self.allowance = allowance
        self.errors: dict[str, str] = {}

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        self.hasher = hashlib.sha256()
        self.received = 0
        self.head = b""
        self.filetype: FileType | None = None
        self.limit: int | None = None
        if self.allowance is not None and not self.allowance():
            self._refuse(TOO_MANY_UPLOADS)  # the parser closes the file and skips its bytes

    def _refuse(self, message: str):
        self.errors[self.field_name] = message
        raise SkipFile(message)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.filetype is None:
            # The parser's first chunk may be a small leftover after the part's headers:
            # gather the sniffing window first, then decide.
            self.head += raw_data[: max(0, SNIFF_BYTES - len(self.head))]
            if len(self.head) >= SNIFF_BYTES:
                self._decide_type()
        if self.limit is not None and self.received > self.limit:
            self._refuse(self._too_big_message())
        self.hasher.update(raw_data)
        return super().receive_data_chunk(raw_data, start)

    def _decide_type(self):
        try:
            self.filetype = self.accept(self.head)
        except ValidationError as exc:
            self._refuse(exc.messages[0])
        family_limit = self.max_bytes[self.filetype.family]
        self.limit = min(family_limit, self.quota_left)
        self.limit_is_quota = self.quota_left < family_limit

    def _too_big_message(self) -> str:
        family = self.filetype.family
        if self.limit_is_quota:
            return over_quota_message(self.quota_left)
        return (
            f"This {family} file is too large: the limit for {family} files is "
            f"{filesizeformat(self.max_bytes[family])}."
        )

    def file_complete(self, file_size):
        if self.filetype is None:  # smaller than the sniffing window (or empty)
            try:
                self._decide_type()
                if self.received > self.limit:
                    self._refuse(self._too_big_message())
            except SkipFile:
                # SkipFile is not honoured from file_complete: drop the file by returning
                # nothing (the error is already recorded for the form).
                self.file.close()
                return None
        uploaded = super().file_complete(file_size)
        uploaded.sha256 = self.hasher.hexdigest()
        uploaded.filetype = self.filetype
        return uploaded


def install_handler(
    request,
    *,
    quota_left: int,
    max_bytes: dict[str, int] | None = None,
    accept: Callable[[bytes], FileType] | None = None,
    allowance: Callable[[], bool] | None = None,
):
    """Put the vetting handler in charge of ``request``'s files; call before reading POST."""
    handler = VettingUploadHandler(
        request, quota_left=quota_left, max_bytes=max_bytes, accept=accept, allowance=allowance
    )
    request.upload_handlers = [handler]
    return handler


def upload_allowance_take(user) -> bool:
    """Count one upload against the creator's hourly allowance; False once it is used up.

    A fixed one-hour window in the shared cache (every web process sees the same count).
    """
    key = f"works:uploads:{user.pk}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count <= settings.WORKS_UPLOADS_PER_HOUR
