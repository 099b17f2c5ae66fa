"""Moving an existing installation's files from the folder to the bucket (docs/storage.md,
"Moving an existing installation"). Run by ``manage.py media_to_bucket``.

Every file in the folder is listed through the storage API and copied to the object of the same
name in the bucket, one at a time:

1. the file is read once to take its SHA-256 and compared with what the bucket holds: an object
   of the same size whose ``sha256`` metadata is that digest is already there (a run that was
   interrupted, or run twice, copies nothing again);
2. otherwise the file is streamed up (a multipart upload for a large file, a part at a time,
   never the whole file in memory) with its digest as the object's ``x-amz-meta-sha256``,
   hashed again as it goes up;
3. the object's body is read back as a stream and hashed: any difference and the object is
   deleted and the file reported as failed.

An object appears in the bucket only once its upload is complete (an interrupted multipart
upload leaves no object), so a run stopped at any moment, by Ctrl-C or a kill, leaves every
object either whole with its digest or absent: the next run picks up where it stopped.
Nothing in the folder is ever changed or deleted."""

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum

from .bucket import BucketStorage, _named
from .storage import CHUNK, FolderStorage, StorageUnavailable

DIGEST_KEY = "sha256"  # the object's metadata entry, sent as the header x-amz-meta-sha256


class Outcome(StrEnum):
    COPIED = "copied"
    ALREADY_THERE = "already there"
    WOULD_COPY = "would copy"
    FAILED = "failed"
    GONE = "gone"  # deleted from the folder (by the portal) after it was listed
    LEFT_OVER = "copy of a deleted file"  # in the bucket, no longer in the folder
    WOULD_DELETE = "would delete"
    DELETED = "deleted from the bucket"


@dataclass
class MoveResult:
    files: int = 0  # in the folder when the run began
    done: int = 0  # of those, taken so far
    copied: int = 0
    already_there: int = 0
    would_copy: int = 0  # --dry-run
    failed: int = 0
    gone: int = 0
    bytes_total: int = 0  # of every file in the folder
    bytes_copied: int = 0  # sent to the bucket (or, in a dry run, that would be)
    left_over: int = 0  # copies of files deleted from the folder since, still in the bucket
    deleted: int = 0  # of those, deleted (``delete_gone``)
    failures: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


Progress = Callable[[str, Outcome, str, MoveResult], None]


class _Failed(Exception):
    """This one file could not be copied; the run goes on with the next."""


def folder_names(source: FolderStorage, directory: str = "") -> Iterator[str]:
    """Every stored file's name under ``directory``, in a stable order, through the storage's
    own ``listdir`` (no walk of the folder outside the storage class)."""
    try:
        directories, files = source.listdir(directory)
    except FileNotFoundError:  # MEDIA_ROOT was never created: nothing was ever stored
        return
    for name in sorted(files):
        yield f"{directory}/{name}" if directory else name
    for name in sorted(directories):
        yield from folder_names(source, f"{directory}/{name}" if directory else name)


def media_move(
    *,
    source: FolderStorage,
    target: BucketStorage,
    dry_run: bool = False,
    recheck: bool = False,
    leftovers: bool = True,
    delete_gone: bool = False,
    progress: Progress | None = None,
    result: MoveResult | None = None,
) -> MoveResult:
    """Copy every file of ``source`` to ``target`` under the same name, skipping those already
    there; with ``dry_run`` only say which would be copied; with ``recheck`` read back the
    objects already there too (not only their size and digest). ``progress(name, outcome,
    why, result)`` is called after each file (``why``: a failure's reason, else "").

    Then, with ``leftovers`` (only while the portal still stores its files in the folder: once
    it uses the bucket, the bucket holds files the folder never had), find the copies this
    command made of files since deleted from the folder — deleted in the portal, by a creator
    or with their account — and, with ``delete_gone``, delete them, so that what was deleted
    stays deleted.

    A file that cannot be read, or whose copy does not verify, is counted as failed and the run
    goes on. ``StorageUnavailable`` (the bucket is missing, does not answer or refuses) ends
    the run; ``result``, when given, holds what was done until then."""
    result = result if result is not None else MoveResult()
    bucket_check(target)
    listed = []
    for name in folder_names(source):
        try:
            size = source.size(name)
        except FileNotFoundError:
            continue
        listed.append(name)
        result.bytes_total += size
    result.files = len(listed)
    present = set(listed)
    for name in listed:
        why = ""
        try:
            outcome, size = _move_one(source, target, name, dry_run=dry_run, recheck=recheck)
        except _Failed as failure:
            outcome, size, why = Outcome.FAILED, 0, str(failure)
            result.failures.append((name, why))
        result.done += 1
        match outcome:
            case Outcome.COPIED:
                result.copied += 1
                result.bytes_copied += size
            case Outcome.WOULD_COPY:
                result.would_copy += 1
                result.bytes_copied += size
            case Outcome.ALREADY_THERE:
                result.already_there += 1
            case Outcome.GONE:
                result.gone += 1
                present.discard(name)
            case Outcome.FAILED:
                result.failed += 1
        if progress:
            progress(name, outcome, why, result)
    if leftovers:
        _leftovers(
            target, present, delete=delete_gone, dry_run=dry_run, progress=progress, result=result
        )
    return result


def _leftovers(target, present: set[str], *, delete, dry_run, progress, result) -> None:
    for name in _bucket_names(target):
        if name in present:
            continue
        stored = _head(target, target.key(name))
        if stored is None or stored["sha256"] is None:
            continue  # not copied by this command: not this command's to delete
        result.left_over += 1
        outcome = Outcome.LEFT_OVER
        if delete:
            outcome = Outcome.WOULD_DELETE
            if not dry_run:
                target.delete(name)
                result.deleted += 1
                outcome = Outcome.DELETED
        if progress:
            progress(name, outcome, "", result)


def _bucket_names(target: BucketStorage) -> Iterator[str]:
    """Every object's name under the storage's prefix: one listing, not one per folder."""
    prefix = target.key("x")[:-1]  # the prefix and its slash, if there is a prefix
    pages = target.connection.meta.client.get_paginator("list_objects_v2")
    try:
        for page in pages.paginate(Bucket=target.bucket_name, Prefix=prefix):
            for item in page.get("Contents", []):
                yield item["Key"][len(prefix) :]
    except Exception as exc:
        raise _unavailable(exc) from exc


def bucket_check(target: BucketStorage) -> None:
    """``StorageUnavailable``, with the reason, unless the bucket is there and answers."""
    try:
        target.health()
    except FileNotFoundError as exc:
        raise _unavailable(exc) from exc


def _move_one(
    source: FolderStorage, target: BucketStorage, name: str, *, dry_run: bool, recheck: bool
) -> tuple[Outcome, int]:
    try:
        size = source.size(name)
        digest = _digest(source, name)
    except FileNotFoundError:
        return Outcome.GONE, 0
    except OSError as exc:
        raise _Failed(f"the file in the folder cannot be read: {exc}") from exc

    stored = _head(target, target.key(name))
    if stored is not None and stored["size"] == size:
        if stored["sha256"] == digest and not recheck:
            return Outcome.ALREADY_THERE, size
        if stored["sha256"] in (digest, None) and _stored_digest(target, name) == digest:
            return Outcome.ALREADY_THERE, size
    if stored is not None and stored["sha256"] is None:
        # Not copied by this command: the portal itself wrote it (MEDIA_STORAGE was switched
        # before the copy was complete), or someone else did. It is not overwritten.
        raise _Failed(
            "the bucket already holds an object of this name with other contents, not "
            "copied by this command: left alone (compare the two and remove one by hand)"
        )
    if dry_run:
        return Outcome.WOULD_COPY, size
    try:
        _upload(source, target, name, digest)
    except FileNotFoundError:
        return Outcome.GONE, 0
    return Outcome.COPIED, size


def _unavailable(exc: Exception) -> StorageUnavailable:
    named = exc if isinstance(exc, OSError) else _named(exc)
    if isinstance(named, StorageUnavailable):
        return named
    # A 404 on the bucket itself: its name is wrong, or it was never made.
    return StorageUnavailable("there is no bucket of that name at this address (404)")


def _digest(storage, name: str) -> str:
    sha256 = hashlib.sha256()
    with storage.stream(name) as stream:
        while chunk := stream.read(CHUNK):
            sha256.update(chunk)
    return sha256.hexdigest()


def _stored_digest(target: BucketStorage, name: str) -> str | None:
    """The SHA-256 of the object's body, read back as a stream (``None``: no such object)."""
    try:
        return _digest(target, name)
    except FileNotFoundError:
        return None


def _head(target: BucketStorage, key: str) -> dict | None:
    """The object's size and ``sha256`` metadata (``None`` where it has none), or ``None``
    when there is no such object."""
    try:
        answer = target.connection.meta.client.head_object(Bucket=target.bucket_name, Key=key)
    except Exception as exc:
        if isinstance(_named(exc), FileNotFoundError):
            return None
        raise _unavailable(exc) from exc
    return {
        "size": answer["ContentLength"],
        "sha256": answer.get("Metadata", {}).get(DIGEST_KEY),
    }


class _Hashing:
    """A stream read once from its start, hashed as it is read. Deliberately not seekable, so
    the upload reads each byte exactly once, in order (a part at a time for a large file)."""

    def __init__(self, stream):
        self._stream = stream
        self.sha256 = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self.sha256.update(data)
        return data


def _upload(source: FolderStorage, target: BucketStorage, name: str, digest: str) -> None:
    key = target.key(name)
    params = target._get_write_parameters(key)  # the type, as django-storages would send it
    params["Metadata"] = {DIGEST_KEY: digest}
    try:
        with source.stream(name) as stream:
            sent = _Hashing(stream)
            target.bucket.Object(key).upload_fileobj(
                sent, ExtraArgs=params, Config=target.transfer_config
            )
    except (StorageUnavailable, FileNotFoundError):
        raise
    except OSError as exc:  # the bucket's own failures come out of boto3, not as OSError
        raise _Failed(f"the file in the folder cannot be read: {exc}") from exc
    except Exception as exc:
        raise _unavailable(exc) from exc
    if sent.sha256.hexdigest() != digest:
        target.delete(name)
        raise _Failed(
            "the file in the folder changed while it was copied: the copy was deleted "
            "from the bucket"
        )
    stored = _stored_digest(target, name)
    if stored is None:
        raise _Failed("the copy was not in the bucket when it was read back")
    if stored != digest:
        target.delete(name)
        raise _Failed(
            f"the bucket gave back other bytes (SHA-256 {stored}, the file's is {digest}): "
            "the copy was deleted from the bucket"
        )
