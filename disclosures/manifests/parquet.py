"""Parquet manifests, read with pyarrow (imported only when one is read): only the known
columns, a batch at a time, from a seekable file — ``accounts.storage.seekable`` (a bucket's
object copied to a temporary file), or a gzip-compressed one decompressed to a temporary file —
kept open while the manifest is. ``rows_total`` is in the file's metadata; resuming skips
whole row groups without reading them."""

import io
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import BinaryIO

from django.conf import settings

from accounts.storage import CHUNK, StorageUnavailable, seekable

from .base import ManifestError, Reader, Row, gzip_errors, plain, positions_of, too_many, value_of

MAGIC = b"PAR1"
BATCH = 10_000


def not_parquet(why) -> ManifestError:
    return ManifestError(
        f"This file starts like a Parquet file but is not a readable one ({why}): it may be "
        "truncated or damaged. Write it again and upload it."
    )


class ParquetReader(Reader):
    def __init__(self, source, storage, compressed: bool, stack: ExitStack):
        """The seekable file is entered on ``stack``, closed with the manifest."""
        import pyarrow
        import pyarrow.parquet as pq

        if compressed:
            file = stack.enter_context(unzipped_copy(source, storage))
        else:
            file = stack.enter_context(seekable(source, storage=storage))
        size = file.seek(0, io.SEEK_END)
        if size >= 12:
            file.seek(size - 4)
        if size < 12 or file.read(4) != MAGIC:
            raise not_parquet("it does not end as Parquet files do")
        file.seek(0)
        # pyarrow's own I/O errors are plain OSError: the file store's are not among them here
        # (the file is local by now) but pass through as they are all the same.
        self.errors = (pyarrow.ArrowException, OSError)
        try:
            self.parquet = pq.ParquetFile(file, buffer_size=CHUNK, pre_buffer=False)
            names = self.parquet.schema_arrow.names
        except StorageUnavailable:
            raise
        except self.errors as exc:
            raise not_parquet(exc) from None
        positions, self.ignored = positions_of(names, "columns are")
        self.names = {key: names[position] for key, position in positions.items()}
        self.columns = list(positions)
        self.rows_total = self.parquet.metadata.num_rows

    def rows(self, start_after: int, limit: int) -> Iterator[Row]:
        metadata = self.parquet.metadata
        groups, number = [], 0  # the row groups to read; the rows before them, not read
        for index in range(metadata.num_row_groups):
            size = metadata.row_group(index).num_rows
            if groups or number + size > start_after:
                groups.append(index)
            else:
                number += size
        if number > limit:
            raise too_many(limit)
        if not groups:
            return
        keys = list(self.names)
        batches = self.parquet.iter_batches(
            batch_size=BATCH,
            row_groups=groups,
            columns=list(self.names.values()),
            use_threads=False,
        )
        while True:
            try:
                batch = next(batches, None)
            except StorageUnavailable:
                raise
            except self.errors as exc:
                raise ManifestError(
                    f"The Parquet file could not be read after row {number:,} ({exc}): it may "
                    "be damaged. Write it again and upload it."
                ) from None
            if batch is None:
                return
            skip = min(batch.num_rows, max(0, start_after - number))
            if number + skip > limit:
                raise too_many(limit)
            number += skip
            if skip == batch.num_rows:
                continue
            cells = [(key, batch.column(i).slice(skip).to_pylist()) for i, key in enumerate(keys)]
            for offset in range(batch.num_rows - skip):
                number += 1
                if number > limit:
                    raise too_many(limit)
                values = {}
                for key, column in cells:
                    if (text := parquet_value(key, column[offset])) is not None:
                        values[key] = text
                yield Row(number, values)


def parquet_value(key: str, value) -> str | None:
    """Strings and whole numbers as text; binary as UTF-8 text, or a raw 32-byte SHA-256 as
    hexadecimal; anything else (floats, lists, dates) absent."""
    if isinstance(value, bytes):
        if key == "sha256" and len(value) == 32:
            return value.hex()
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return value_of(value)


@contextmanager
def unzipped_copy(source, storage) -> Iterator[BinaryIO]:
    """A gzip-compressed Parquet file decompressed to a temporary file, at most
    ``DISCLOSURE_MAX_MANIFEST_BYTES`` long; removed however the block ends."""
    most = getattr(settings, "DISCLOSURE_MAX_MANIFEST_BYTES", 5 << 30)
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as copy:
        with plain(source, storage, True) as unzipped, gzip_errors():
            while chunk := unzipped.read(CHUNK):
                copy.write(chunk)
                if copy.tell() > most:
                    raise ManifestError(
                        f"This gzip file decompresses to more than {most >> 20:,} MB: upload the "
                        "Parquet file uncompressed (Parquet compresses its columns itself)."
                    )
        copy.seek(0)
        yield copy
