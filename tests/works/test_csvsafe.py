import csv
import io

import pytest

from works.csvsafe import safe_cell, stream_rows


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            '=HYPERLINK("http://evil.example","click")',
            '\'=HYPERLINK("http://evil.example","click")',
        ),
        ("+1+1", "'+1+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Plain title", "Plain title"),
        ("A = B", "A = B"),
        ("", ""),
        (None, ""),
        (2019, "2019"),
    ],
)
def test_cells_that_a_spreadsheet_would_run_are_made_text(value, expected):
    assert safe_cell(value) == expected


def test_streamed_csv_reads_back_with_every_cell_safe():
    text = "".join(
        stream_rows([["title", "year"], ["=cmd|' /C calc'!A0", 1999], ['Quiet, "Harbour"', ""]])
    )
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows == [["title", "year"], ["'=cmd|' /C calc'!A0", "1999"], ['Quiet, "Harbour"', ""]]
