"""Nobody's gender is assumed (issue 19): no template, letter, email, doc, message, comment or
test speaks of a creator (or anyone) as "she" or "he". The portal says "the creator", the
person's name or "they"; letters use the pronouns a creator gave in the profile, which come
from ``accounts/pronouns.py`` — the one file allowed to spell gendered pronouns out."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

GENDERED = re.compile(r"\b(she|her|hers|herself|he|him|his|himself)\b", re.IGNORECASE)
# Gendered words inside identifiers too (test_creator_edits_her_profile, her_request).
_WORDS = "(?:she|her|hers|herself|him|his|himself)"
GENDERED_IN_NAME = re.compile(rf"(?<![A-Za-z]){_WORDS}(?=_)|_{_WORDS}(?![A-Za-z])")

SCANNED_DIRS = [
    "templates",
    "docs",
    "static/css",
    "static/js",
    "accounts",
    "bench",
    "consent",
    "disclosures",
    "notices",
    "portal",
    "removals",
    "scripts",
    "tests",
    "works",
    "works_registry",
]
SCANNED_FILES = ["README.md", ".env.example", "Makefile", "pyproject.toml"]
SUFFIXES = {".py", ".html", ".txt", ".md", ".css", ".js", ".json", ".csv", ".toml"}

# Where gendered pronouns are the subject itself, not words about a person.
ALLOWED_FILES = {
    "accounts/pronouns.py",  # the table of pronoun sets letters use
    "tests/accounts/test_pronouns.py",  # what that table answers for "she/her", "he/him"…
    "tests/removals/test_letter_pronouns.py",  # letters for creators who gave them
    "tests/e2e/test_pronouns_browser.py",  # the same, given on the profile page
    "tests/portal/test_no_assumed_gender.py",  # this test
}
# The profile field's help text offers examples of pronouns a creator may give.
ALLOWED_LINES = ["“she/her”, “he/him”"]


def _scanned_files():
    for name in SCANNED_FILES:
        path = ROOT / name
        if path.exists():
            yield path
    for folder in SCANNED_DIRS:
        for path in sorted((ROOT / folder).rglob("*")):
            if (
                path.is_file()
                and path.suffix in SUFFIXES
                and not path.name.endswith(".min.js")
                and "__pycache__" not in path.parts
            ):
                yield path


def _findings(text: str, relative: str) -> list[str]:
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if any(allowed in line for allowed in ALLOWED_LINES):
            continue
        match = GENDERED.search(line) or GENDERED_IN_NAME.search(line)
        if match:
            found.append(f"{relative}:{number}: {match.group(0)!r} in {line.strip()[:120]}")
    return found


def test_no_product_text_code_or_test_assumes_anyones_gender():
    findings = []
    scanned = 0
    for path in _scanned_files():
        relative = path.relative_to(ROOT).as_posix()
        if relative in ALLOWED_FILES:
            continue
        scanned += 1
        findings += _findings(path.read_text(encoding="utf-8", errors="replace"), relative)

    assert scanned > 300  # the letters, every template, the docs and the code were read
    assert not findings, "Gendered words about people (say 'the creator', a name or 'they'):\n" + (
        "\n".join(findings)
    )


def test_the_scan_catches_what_it_is_for():
    """The scanner itself: gendered words and names are found, other words are not."""
    assert _findings("The creator asks her guild.", "x")
    assert _findings("{% if acting_for %}She asks{% endif %}", "x")
    assert _findings("def test_creator_edits_her_profile():", "x")
    assert _findings("creator = her_request.creator", "x")
    assert _findings("the licence he gave", "x")
    assert not _findings("Here the other creators share their theme, hereafter.", "x")
    assert not _findings("their works, them, they, the creator's, hereafter, ethics", "x")
