"""The private S3-compatible bucket behind ``MEDIA_STORAGE=s3`` (docs/storage.md): django-storages'
S3 backend with the portal's defaults and the two methods every storage of the portal has
(``accounts/storage.py``). Imported only when the bucket is in use."""

import io
from functools import wraps
from typing import BinaryIO

from boto3.exceptions import Boto3Error
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.utils.http import content_disposition_header
from storages.backends.s3 import S3Storage
from storages.utils import clean_name

from .storage import CHUNK, StorageUnavailable


def _translated(method):
    """Run a bucket call, naming its failures: a missing object → ``FileNotFoundError``,
    anything else the client or the network raised → ``StorageUnavailable``."""

    @wraps(method)
    def call(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except (FileNotFoundError, StorageUnavailable):
            raise
        except Exception as exc:
            raise _named(exc) from exc

    return call


def _named(exc: Exception) -> OSError:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if error.get("Code") in {"NoSuchKey", "404", "NotFound"} or status == 404:
            return FileNotFoundError(f"The stored file is missing ({error.get('Code')}).")
        return StorageUnavailable(f"The file store refused: {error.get('Code')} {status}")
    if isinstance(exc, BotoCoreError | Boto3Error):
        return StorageUnavailable(f"The file store did not answer: {exc}")
    return exc if isinstance(exc, OSError) else StorageUnavailable(str(exc))


class _Body(io.RawIOBase):
    """A bucket response's body as a raw binary stream whose failures are named."""

    def __init__(self, body):
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        try:
            data = self._body.read(len(buffer))
        except Exception as exc:
            raise _named(exc) from exc
        buffer[: len(data)] = data
        return len(data)

    def close(self):
        if not self.closed:
            self._body.close()
        super().close()


def _transfer_config() -> TransferConfig:
    """8 MiB parts, at most four sent at once. s3transfer reads each part of a file object into
    memory before sending it and by default keeps up to ten parts read ahead (80 MiB): four
    here: an upload of any size holds those 32 MiB plus the client's buffers (bench/storage.py
    measured 50–62 MiB for files of 64–512 MiB)."""
    config = TransferConfig(
        multipart_threshold=8 * CHUNK, multipart_chunksize=8 * CHUNK, max_concurrency=4
    )
    config.max_in_memory_upload_chunks = 4  # s3transfer's setting; boto3's constructor lacks it
    return config


class BucketStorage(S3Storage):
    """A private S3-compatible bucket (django-storages' S3 backend) with the portal's defaults:
    nothing public (no ACL, signed links only), a name never overwritten, every request
    bounded in time, large files sent as multipart uploads read from the file a part at a
    time, and ``stream``/``download_url`` as the folder has them."""

    def __init__(self, *, connect_timeout=5.0, read_timeout=30.0, max_attempts=3, **options):
        endpoint = options.get("endpoint_url")
        options.setdefault(
            "client_config",
            Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                signature_version="s3v4",
                # Buckets of S3-compatible servers are addressed by path; AWS's by host.
                s3={"addressing_style": "path" if endpoint else "auto"},
            ),
        )
        options.setdefault("transfer_config", _transfer_config())
        options.setdefault("file_overwrite", False)
        options.setdefault("default_acl", None)
        options.setdefault("querystring_auth", True)
        options.setdefault("signature_version", "s3v4")
        super().__init__(**options)

    def key(self, name: str) -> str:
        """The object key of the stored ``name`` (the prefix, if any, included)."""
        return self._normalize_name(clean_name(name))

    @_translated
    def stream(self, name: str) -> BinaryIO:
        answer = self.connection.meta.client.get_object(Bucket=self.bucket_name, Key=self.key(name))
        return io.BufferedReader(_Body(answer["Body"]), buffer_size=CHUNK)

    @_translated
    def health(self) -> None:
        """Raise unless the bucket answers (``/healthz``): one ``HeadBucket``."""
        self.connection.meta.client.head_bucket(Bucket=self.bucket_name)

    def download_url(self, name: str, *, filename: str, content_type: str) -> str | None:
        return self.url(
            name,
            parameters={
                "ResponseContentDisposition": content_disposition_header(True, filename),
                "ResponseContentType": content_type,
            },
            expire=self.querystring_expire,
        )

    _open = _translated(S3Storage._open)
    _save = _translated(S3Storage._save)
    delete = _translated(S3Storage.delete)
    exists = _translated(S3Storage.exists)
    size = _translated(S3Storage.size)
    listdir = _translated(S3Storage.listdir)
