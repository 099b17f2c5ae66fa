"""The planted manifest of the disclosures' API and page tests: a real CSV whose rows name the
works of ``conftest.planted`` (one denied for training by its ISBN, one allowed freely, one
only under licence, one by title and author whose title starts like a spreadsheet formula)."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile

DENIED_ISBN = "9780306406157"
ALLOWED_ISBN = "9781861972712"
LICENCE_ISBN = "9780262033848"
FORMULA_TITLE = "=HYPERLINK(1)"


def csv_bytes(rows) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode()


# Row 1 denied (ISBN), row 2 allowed (ISBN), row 3 nothing, row 4 licence only (ISBN), row 5 the
# formula-titled work by title and author (denied: a weak finding). LAION writes URL.
MANIFEST_ROWS = [
    ["URL", "isbn", "title", "author", "caption"],
    ["https://cdn.example.net/1.jpg", DENIED_ISBN, "", "", "first"],
    ["https://cdn.example.net/2.jpg", ALLOWED_ISBN, "", "", "second"],
    ["https://cdn.example.net/3.jpg", "", "Nobody's Book", "Nobody", "third"],
    ["", LICENCE_ISBN, "", "", "fourth"],
    ["", "", FORMULA_TITLE, "alice author", "fifth"],
]
MANIFEST = csv_bytes(MANIFEST_ROWS)


def manifest_file(data: bytes = MANIFEST, name: str = "dataset.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")
