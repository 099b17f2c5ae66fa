"""The metadata CSV of a ZIP import: its rows keyed by the entry each describes."""

import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from django.conf import settings
from django.template.defaultfilters import filesizeformat

from .csvfiles import (
    CSV_COLUMNS,
    ImportFileError,
    count_rows,
    data_rows,
    detect_delimiter,
    detect_encoding,
    parse_header,
    records,
    text_of,
)

CHUNK = 1 << 20


def entry_path(info: zipfile.ZipInfo) -> str:
    return info.filename.replace("\\", "/")


def report_column(path: str) -> str:
    return path if len(path) <= 100 else "…" + path[-99:]


@dataclass
class Metadata:
    rows: dict[int, tuple[int, dict[str, str]]] = field(default_factory=dict)  # by entry number
    problems: list[tuple[int, str, str]] = field(default_factory=list)  # (row, column, message)


def read_metadata(archive, info, number: int, entries) -> Metadata:
    """The metadata rows keyed by the entry each names (its path in the archive, relative to
    the archive or to the metadata file's folder, or its bare name when that is unique)."""
    path = entry_path(info)
    try:
        return _read_metadata(archive, info, number, path, entries)
    except ImportFileError as exc:
        raise ImportFileError(f"The archive's metadata file {path}: {exc}") from None


def _read_metadata(archive, info, number, path, entries) -> Metadata:
    if info.flag_bits & 0x1:
        raise ImportFileError("it is encrypted. Make the archive again without a password.")
    by_path = {entry_path(i): n for n, i in entries}
    by_name: dict[str, list[int]] = {}
    for n, i in entries:
        by_name.setdefault(PurePosixPath(entry_path(i)).name, []).append(n)
    folder = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    metadata = Metadata()
    column = report_column(path)
    limit = settings.WORKS_ZIP_MAX_ENTRIES
    with tempfile.TemporaryFile(dir=settings.FILE_UPLOAD_TEMP_DIR) as f:
        _copy(archive, info, f, settings.WORKS_IMPORT_CSV_MAX_BYTES)
        encoding = detect_encoding(f)
        delimiter = detect_delimiter(f, encoding)
        count, encoding = count_rows(f, encoding=encoding, delimiter=delimiter, limit=limit)
        if count > limit:
            raise ImportFileError(f"it has more than {limit:,} rows.")
        text = text_of(f, encoding)
        try:
            reader = records(text, delimiter)
            header = parse_header(
                next(reader, None), known=(*CSV_COLUMNS, "file"), required=("file",)
            )
            metadata.problems.extend(
                (number, column, f"Row 1: the column “{name}” is not one we import; ignored.")
                for name in header.unknown
            )
            for row_number, record in data_rows(reader):
                cells = header.cells(record)
                wanted = cells.pop("file", "").strip().replace("\\", "/").removeprefix("./")
                found = by_path.get(folder + wanted, by_path.get(wanted.lstrip("/")))
                if found is None and "/" not in wanted and len(by_name.get(wanted, ())) == 1:
                    found = by_name[wanted][0]
                if not wanted:
                    problem = f"Row {row_number:,}: the file column is empty."
                elif found is None:
                    problem = f"Row {row_number:,}: there is no file “{wanted}” in the archive."
                elif found in metadata.rows:
                    first = metadata.rows[found][0]
                    problem = (
                        f"Row {row_number:,}: “{wanted}” is described twice; row {first:,} is used."
                    )
                else:
                    metadata.rows[found] = (row_number, cells)
                    continue
                metadata.problems.append((number, column, problem))
        finally:
            text.detach()
    return metadata


def _copy(archive, info, out, limit: int) -> None:
    try:
        with archive.open(info) as stream:
            size = 0
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ImportFileError(
                        f"it is larger than the {filesizeformat(limit)} a CSV file may be."
                    )
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        raise ImportFileError(f"it could not be unpacked ({exc}).") from None
    out.seek(0)
