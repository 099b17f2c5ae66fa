"""Where the portal's files live: a folder (the embedded default) or a private S3-compatible
bucket, chosen by one setting, ``MEDIA_STORAGE`` (docs/storage.md).

Every app reads and writes stored files through Django's storage API and the helpers here;
nothing builds a filesystem path to a stored file (tests/portal/test_storage.py runs the whole
suite on a folder storage that refuses to give one). Both backends (the bucket's is in
``accounts/bucket.py``, so the folder never imports boto3) add what Django's API lacks:

- ``stream(name)``: the file as a binary stream, read from the bucket's response body as it
  arrives (django-storages' ``open()`` downloads the whole object to a temporary file first);
- ``download_url(name, filename=…, content_type=…)``: a signed link, valid for minutes, that a
  browser may be sent to after the portal's access checks (``None`` for the folder: the portal
  serves those bytes itself).

The bucket's failures come out as two exceptions every caller can name: ``FileNotFoundError``
(no such object) and ``StorageUnavailable`` (the store did not answer, timed out or refused).
"""

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.db.models.fields.files import FieldFile

CHUNK = 1 << 20

logger = logging.getLogger(__name__)

UNAVAILABLE_MESSAGE = (
    "The file store is not answering just now, so nothing was saved. Please try again in a "
    "few minutes."
)


class StorageUnavailable(OSError):  # noqa: N818 - reads as what happened, like FileNotFoundError
    """The file store did not answer, timed out or refused the request. A write that raised it
    left nothing behind (a multipart upload is aborted); a read may be tried again later."""


class FolderStorage(FileSystemStorage):
    """The embedded default: files in ``MEDIA_ROOT``."""

    def stream(self, name: str) -> BinaryIO:
        """The stored file opened for reading (``FileNotFoundError`` when it is missing)."""
        return self._open(name, "rb").file

    def download_url(self, name: str, *, filename: str, content_type: str) -> str | None:
        return None

    def health(self) -> None:
        """Raise unless files can be written here (``/healthz``)."""
        os.makedirs(self.location, exist_ok=True)
        if not os.access(self.location, os.W_OK | os.X_OK):
            raise StorageUnavailable("The media folder is not writable.")


# --- Helpers every app uses ----------------------------------------------------------------------


def _where(source: FieldFile | str, storage=None):
    if isinstance(source, FieldFile):
        return source.storage, source.name
    return storage or default_storage, source


@contextmanager
def opened(source: FieldFile | str, *, storage=None) -> Iterator[BinaryIO]:
    """A stored file (a ``FieldFile``, or a name in ``storage``, by default the default
    storage) as a binary stream, read once from its start: not seekable on a bucket."""
    storage, name = _where(source, storage)
    stream = storage.stream(name)
    try:
        yield stream
    finally:
        stream.close()


@contextmanager
def seekable(source: FieldFile | str, *, storage=None) -> Iterator[BinaryIO]:
    """A stored file as a seekable binary file, for the libraries that need one (Pillow,
    ``zipfile``): the folder's file itself, or a temporary copy of the object, removed when
    the block ends however it ends."""
    with opened(source, storage=storage) as stream:
        if stream.seekable():
            yield stream
            return
        with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
            shutil.copyfileobj(stream, copy, CHUNK)
            copy.seek(0)
            yield copy


def download_url(source: FieldFile, *, filename: str, content_type: str) -> str | None:
    """A short-lived signed link to the stored file for a browser, or ``None`` where the
    portal serves the bytes itself (the folder)."""
    storage, name = _where(source)
    return storage.download_url(name, filename=filename, content_type=content_type)


class StoredFiles:
    """Names written to ``storage`` (the default storage unless told) during one service call,
    deleted again if the call fails: a refused or rolled-back write leaves nothing behind. Enter
    it *before* the transaction (``with StoredFiles() as stored, transaction.atomic():``) so it
    sees the rollback's error; append each name written to ``names`` (remove one a row now
    holds that must outlive a failure). A delete the store refuses is logged, not raised: the
    call's own error is the one that matters."""

    def __init__(self, storage=None):
        self.storage = storage or default_storage
        self.names: list[str] = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is not None:
            for name in self.names:
                try:
                    self.storage.delete(name)
                except OSError:  # StorageUnavailable too
                    logger.warning("Could not delete the stored file %s", name, exc_info=True)
        return False
