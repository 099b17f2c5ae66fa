"""Reading a developer's dataset manifest (disclosures/manifests.py): real files written by the
csv, json, gzip and pyarrow libraries, stored through the storage API (the test folder, which
refuses filesystem paths, and moto's bucket over HTTP) and read back as the worker will."""

import codecs
import csv
import gzip
import io
import json
import tracemalloc

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from disclosures.manifests import KNOWN, ManifestError, manifest_open

# --- Writing real manifests ----------------------------------------------------------------------


def csv_bytes(rows, *, delimiter=",", bom=False) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(rows)
    return (codecs.BOM_UTF8 if bom else b"") + buffer.getvalue().encode("utf-8")


def jsonl_bytes(objects) -> bytes:
    return b"".join(json.dumps(item).encode() + b"\n" for item in objects)


def parquet_bytes(columns: dict, *, row_group_size=None) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(columns), buffer, row_group_size=row_group_size)
    return buffer.getvalue()


def stored(data: bytes, name: str = "manifest") -> str:
    return default_storage.save(f"disclosures/{name}", ContentFile(data))


def read(data: bytes, name: str = "manifest", start_after: int = 0):
    with manifest_open(stored(data, name)) as manifest:
        return manifest, list(manifest.rows(start_after=start_after))


def refusal(data: bytes, name: str = "manifest") -> str:
    with pytest.raises(ManifestError) as caught:
        read(data, name)
    return caught.value.message


URLS = [f"https://example.com/art/{i}.jpg" for i in range(1, 6)]
CSV_ROWS = [["url", "sha256", "caption"]] + [
    [url, f"{i:064x}", f"pic {i}"] for i, url in enumerate(URLS, 1)
]
EXPECTED = [{"url": url, "sha256": f"{i:064x}"} for i, url in enumerate(URLS, 1)]


def values(rows):
    return [row.values for row in rows]


# --- The three formats, each plain or gzip-compressed ------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
@pytest.mark.parametrize("compressed", [False, True])
def test_csv_manifest_read_with_any_delimiter_plain_or_gzipped(delimiter, compressed):
    data = csv_bytes(CSV_ROWS, delimiter=delimiter, bom=True)
    manifest, rows = read(gzip.compress(data) if compressed else data, "dataset.csv")

    assert (manifest.format, manifest.compressed) == ("csv", compressed)
    assert manifest.columns == ["url", "sha256"]
    assert manifest.ignored == ["caption"]
    assert manifest.rows_total is None
    assert [row.number for row in rows] == [1, 2, 3, 4, 5]
    assert values(rows) == EXPECTED


@pytest.mark.parametrize("compressed", [False, True])
def test_jsonl_manifest_read_plain_or_gzipped(compressed):
    objects = [{"url": url, "sha256": f"{i:064x}", "nsfw": 0.1} for i, url in enumerate(URLS, 1)]
    data = jsonl_bytes(objects)
    manifest, rows = read(gzip.compress(data) if compressed else data, "dataset.jsonl")

    assert (manifest.format, manifest.compressed) == ("jsonl", compressed)
    assert manifest.columns == ["url", "sha256"]
    assert manifest.ignored == ["nsfw"]
    assert values(rows) == EXPECTED
    assert [row.number for row in rows] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("compressed", [False, True])
def test_parquet_manifest_read_plain_or_gzipped_with_its_row_count(compressed):
    data = parquet_bytes(
        {
            "url": URLS,
            "sha256": [f"{i:064x}" for i in range(1, 6)],
            "width": [640] * 5,
        }
    )
    manifest, rows = read(gzip.compress(data) if compressed else data, "dataset.parquet")

    assert (manifest.format, manifest.compressed) == ("parquet", compressed)
    assert manifest.columns == ["url", "sha256"]
    assert manifest.ignored == ["width"]
    assert manifest.rows_total == 5
    assert values(rows) == EXPECTED
    assert [row.number for row in rows] == [1, 2, 3, 4, 5]


def test_laion_style_upper_case_columns_are_matched_and_the_rest_listed():
    data = parquet_bytes(
        {
            "SAMPLE_ID": [1, 2],
            "URL": URLS[:2],
            "TEXT": ["a cat", "a dog"],
            "HEIGHT": [512, 512],
            " Title ": ["Cat", "Dog"],
        }
    )
    manifest, rows = read(data)

    assert manifest.columns == ["url", "title"]
    assert manifest.ignored == ["SAMPLE_ID", "TEXT", "HEIGHT"]
    assert values(rows) == [{"url": URLS[0], "title": "Cat"}, {"url": URLS[1], "title": "Dog"}]


def test_unknown_columns_are_listed_as_written_at_most_fifty():
    header = ["URL"] + [f"Extra {i}" for i in range(80)]
    manifest, _ = read(csv_bytes([header, [URLS[0]] + ["x"] * 80]))

    assert manifest.columns == ["url"]
    assert manifest.ignored == [f"Extra {i}" for i in range(50)]


def test_a_csv_named_parquet_is_read_as_what_it_is():
    manifest, rows = read(csv_bytes(CSV_ROWS), "dataset.parquet")

    assert manifest.format == "csv"
    assert values(rows) == EXPECTED


# --- Cells are data ------------------------------------------------------------------------------


FORMULAS = ['=HYPERLINK("https://evil.example","click")', "+1+1", "-2", "@SUM(A1)", "=1+2"]


def test_formula_looking_cells_are_read_as_text_verbatim():
    rows_csv = [["title", "author"]] + [[formula, "Ann"] for formula in FORMULAS]
    _, rows = read(csv_bytes(rows_csv))
    _, lines = read(jsonl_bytes({"title": formula, "author": "Ann"} for formula in FORMULAS))
    _, parquet = read(parquet_bytes({"title": FORMULAS, "author": ["Ann"] * 5}))

    expected = [{"title": formula, "author": "Ann"} for formula in FORMULAS]
    assert values(rows) == values(lines) == values(parquet) == expected


def test_values_are_stripped_and_empty_or_overlong_ones_absent():
    long_url = "https://example.com/" + "a" * 2_000
    _, rows = read(
        csv_bytes(
            [
                ["url", "doi", "isbn"],
                ["  https://example.com/x  ", "   ", "978-0-306-40615-7"],
                [long_url, "10.1000/182", ""],
                ["", "", ""],
            ]
        )
    )

    assert [(row.number, row.values) for row in rows] == [
        (1, {"url": "https://example.com/x", "isbn": "978-0-306-40615-7"}),
        (2, {"doi": "10.1000/182"}),
        (3, {}),
    ]


def test_blank_lines_are_skipped_and_not_counted():
    data = b"\n\nurl\n" + URLS[0].encode() + b"\n\n\r\n" + URLS[1].encode() + b"\n\n"
    _, rows = read(data)
    _, lines = read(b'\n{"url": "a"}\n\n   \n{"url": "b"}\n')

    assert [(row.number, row.values) for row in rows] == [
        (1, {"url": URLS[0]}),
        (2, {"url": URLS[1]}),
    ]
    assert [(row.number, row.values) for row in lines] == [(1, {"url": "a"}), (2, {"url": "b"})]


def test_a_jsonl_line_that_is_not_an_object_is_a_row_problem_and_reading_goes_on():
    data = b'{"url": "a"}\n[1, 2]\nnot json at all\n{"URL": "b", "isbn": 9780306406157}\n"x"\n'
    manifest, rows = read(data)

    assert manifest.columns == ["url", "isbn"]
    assert [(row.number, row.values) for row in rows] == [
        (1, {"url": "a"}),
        (2, {}),
        (3, {}),
        (4, {"url": "b", "isbn": "9780306406157"}),
        (5, {}),
    ]
    assert [bool(row.problem) for row in rows] == [False, True, True, False, True]
    assert "not an object" in rows[1].problem
    assert "not valid JSON" in rows[2].problem


# --- Refused, with a message the developer understands -----------------------------------------


def test_a_manifest_with_no_known_column_is_refused_in_every_format():
    messages = [
        refusal(csv_bytes([["image", "caption"], ["a.jpg", "a cat"]])),
        refusal(jsonl_bytes([{"image": "a.jpg", "caption": "a cat"}])),
        refusal(parquet_bytes({"image": ["a.jpg"], "caption": ["a cat"]})),
    ]

    for message in messages:
        assert message.startswith(
            "This manifest names none of the columns we match: " + ", ".join(KNOWN)
        )
        assert "image, caption" in message


def test_a_csv_without_a_header_row_is_refused():
    message = refusal("\n".join(URLS).encode())

    assert "names none of the columns we match" in message
    assert URLS[0] in message


def test_a_column_named_twice_is_refused():
    message = refusal(csv_bytes([["url", "URL"], ["a", "b"]]))

    assert message.startswith("The column “url” is named twice (url, URL)")


def test_a_windows_1252_csv_is_refused_naming_the_row_and_the_byte():
    rows = [["title", "author"], ["Plain", "Ann"], ["Café", "Zoë"]]
    data = "\r\n".join(",".join(row) for row in rows).encode("cp1252")
    with manifest_open(stored(data)) as manifest:
        read_rows = []
        with pytest.raises(ManifestError) as caught:
            for row in manifest.rows():
                read_rows.append(row)

    assert values(read_rows) == [{"title": "Plain", "author": "Ann"}]
    assert caught.value.message == (
        "Row 2 is not UTF-8 text (byte 0xE9 at position 4 of its line). Save the manifest as "
        "UTF-8 and upload it again."
    )


def test_a_header_that_is_not_utf8_is_refused_at_once():
    message = refusal("Titre,Auteur,Année\n".encode("cp1252"))

    assert message.startswith("The first row (the column names) is not UTF-8 text")


def test_a_utf16_manifest_is_refused():
    message = refusal("url\nhttps://example.com/a\n".encode("utf-16"))

    assert "UTF-16" in message
    assert "UTF-8" in message


def test_a_gzip_cut_short_stops_after_the_last_whole_row():
    lines = [["url"]] + [[f"https://example.com/{i:08d}/{i * 7919:x}"] for i in range(40_000)]
    whole = gzip.compress(csv_bytes(lines))
    with manifest_open(stored(whole[: len(whole) // 2])) as manifest:
        read_rows = []
        with pytest.raises(ManifestError) as caught:
            for row in manifest.rows():
                read_rows.append(row)

    assert 1_000 < len(read_rows) < 40_000
    assert values(read_rows) == [{"url": line[0]} for line in lines[1 : len(read_rows) + 1]]
    assert caught.value.message == (
        f"The gzip file ends early (truncated) after row {len(read_rows):,}: upload the "
        "complete file again."
    )


def test_damaged_gzip_data_is_named():
    lines = [["url"]] + [[f"https://example.com/{i:08d}/{i * 7919:x}"] for i in range(40_000)]
    whole = bytearray(gzip.compress(csv_bytes(lines)))
    middle = len(whole) // 2
    whole[middle : middle + 64] = bytes(64)
    with manifest_open(stored(bytes(whole))) as manifest, pytest.raises(ManifestError) as caught:
        for _ in manifest.rows():
            pass

    assert caught.value.message.startswith("The gzip data is damaged after row ")


def test_a_jsonl_line_that_is_not_utf8_stops_the_reading_naming_its_row():
    good = jsonl_bytes({"title": f"Plain {i}"} for i in range(1, 151))
    bad = '{"title": "Café"}\n'.encode("cp1252")
    with manifest_open(stored(good + b"\n" + bad)) as manifest:
        read_rows = []
        with pytest.raises(ManifestError) as caught:
            for row in manifest.rows():
                read_rows.append(row)

    assert len(read_rows) == 150
    assert caught.value.message.startswith("Row 151 is not UTF-8 text (byte 0xE9")
    assert refusal(b'{"title": "Plain"}\n' + bad).startswith("Row 2 is not UTF-8 text")


def test_a_tiny_truncated_gzip_is_refused_at_once():
    whole = gzip.compress(csv_bytes(CSV_ROWS))

    assert refusal(whole[:-12]).startswith("The gzip file ends early (truncated)")


def test_a_parquet_file_that_is_not_one_is_refused():
    real = parquet_bytes({"url": URLS})
    junk_inside = real[:4] + b"\x00" * (len(real) - 8) + real[-4:]

    for data in (b"PAR1" + b"junk" * 100, junk_inside, real[: len(real) // 2]):
        message = refusal(data)
        assert message.startswith(
            "This file starts like a Parquet file but is not a readable one"
        ), message


def test_empty_and_binary_files_and_archives_are_refused():
    assert refusal(b"") == "The manifest is empty: it has no column names and no rows."
    assert refusal(b"  \n\r\n ").startswith("The manifest is empty")
    assert refusal(gzip.compress(b"")).startswith("The manifest is empty")
    assert "binary data" in refusal(bytes(range(256)) * 4)
    assert "ZIP archive" in refusal(b"PK\x03\x04" + b"\x00" * 100)
    assert "JSON Lines" in refusal(b'[{"url": "a"}]')


def test_a_line_longer_than_a_mebibyte_stops_the_reading():
    data = b"url,caption\nhttps://example.com/a,short\nhttps://example.com/b," + b"x" * (2 << 20)
    with manifest_open(stored(data)) as manifest:
        rows = manifest.rows()
        assert next(rows).values == {"url": "https://example.com/a"}
        with pytest.raises(ManifestError) as caught:
            next(rows)

    assert caught.value.message.startswith("Row 2 is longer than 1,048,576 bytes")


# --- The row limit -------------------------------------------------------------------------------


def _manifests_of(count: int) -> dict[str, bytes]:
    urls = [f"https://example.com/{i}" for i in range(1, count + 1)]
    return {
        "csv": csv_bytes([["url"]] + [[url] for url in urls]),
        "jsonl": jsonl_bytes({"url": url} for url in urls),
        "parquet": parquet_bytes({"url": urls}, row_group_size=300),
    }


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_reading_past_the_row_limit_stops_with_the_message(settings, kind):
    settings.DISCLOSURE_MAX_ROWS = 1_000
    with manifest_open(stored(_manifests_of(1_001)[kind])) as manifest:
        read_rows = []
        with pytest.raises(ManifestError) as caught:
            for row in manifest.rows():
                read_rows.append(row)

    assert [row.number for row in read_rows] == list(range(1, 1_001))
    assert caught.value.message == (
        "This manifest has more than 1,000 rows: the first 1,000 were read, the rest were not. "
        "Split it into manifests of at most 1,000 rows each."
    )


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
def test_a_manifest_of_exactly_the_row_limit_is_read_whole(settings, kind):
    settings.DISCLOSURE_MAX_ROWS = 1_000
    _, rows = read(_manifests_of(1_000)[kind])

    assert len(rows) == 1_000


# --- Resuming ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["csv", "jsonl", "parquet"])
@pytest.mark.parametrize("start_after", [0, 1, 299, 300, 301, 777, 999, 1_000, 5_000])
def test_rows_after_k_are_exactly_the_rows_numbered_above_k(kind, start_after):
    data = _manifests_of(1_000)[kind]
    _, everything = read(data)
    _, resumed = read(data, start_after=start_after)

    assert resumed == everything[start_after:]
    assert [row.number for row in resumed] == list(range(start_after + 1, 1_001))


def test_a_manifest_reads_its_rows_again_from_the_start_each_time():
    with manifest_open(stored(gzip.compress(csv_bytes(CSV_ROWS)))) as manifest:
        first = manifest.rows()
        next(first)
        assert values(manifest.rows()) == EXPECTED
        assert values(manifest.rows(start_after=3)) == EXPECTED[3:]


def test_a_closed_manifest_reads_no_more():
    manifest = manifest_open(stored(parquet_bytes({"url": URLS})))
    rows = manifest.rows()
    next(rows)
    manifest.close()

    assert list(rows) == []
    with pytest.raises(ValueError):
        manifest.rows()


# --- From the bucket -----------------------------------------------------------------------------


@pytest.mark.parametrize("compressed", [False, True])
def test_every_format_is_read_from_the_bucket(bucket_storage, settings, tmp_path, compressed):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    objects = [{"url": url, "sha256": f"{i:064x}"} for i, url in enumerate(URLS, 1)]
    manifests = {
        "csv": csv_bytes(CSV_ROWS, delimiter=";"),
        "jsonl": jsonl_bytes(objects),
        "parquet": parquet_bytes({"URL": URLS, "sha256": [f"{i:064x}" for i in range(1, 6)]}),
    }
    for kind, data in manifests.items():
        name = bucket_storage.save(
            f"disclosures/{kind}", ContentFile(gzip.compress(data) if compressed else data)
        )
        with bucket_storage.open(name) as check:  # really in the bucket
            assert check.read(2) == (b"\x1f\x8b" if compressed else data[:2])
        with manifest_open(name) as manifest:
            assert (manifest.format, manifest.compressed) == (kind, compressed)
            assert values(manifest.rows()) == EXPECTED
            assert values(manifest.rows(start_after=2)) == EXPECTED[2:]
        assert list((tmp_path / "uploads").iterdir()) == []  # Parquet's copy removed


# --- Memory --------------------------------------------------------------------------------------


def test_a_200000_row_csv_is_read_without_holding_it():
    buffer = io.BytesIO()
    text = io.TextIOWrapper(buffer, encoding="utf-8", newline="")
    writer = csv.writer(text)
    writer.writerow(["url", "sha256", "title", "author", "caption"])
    for i in range(200_000):
        writer.writerow(
            [f"https://example.com/{i}.jpg", f"{i:064x}", f"Title {i}", "Ann", "x" * 40]
        )
    text.flush()
    name = stored(buffer.getvalue())
    size = buffer.tell()
    del text, buffer, writer

    tracemalloc.start()
    try:
        count, last = 0, None
        with manifest_open(name) as manifest:
            for row in manifest.rows():
                count, last = count + 1, row
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert count == 200_000
    assert last.values["url"] == "https://example.com/199999.jpg"
    assert size > 20 << 20
    assert peak < 4 << 20, f"peak {peak / (1 << 20):.1f} MiB reading a {size >> 20} MiB file"
