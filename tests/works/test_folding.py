"""The one folding of titles and names (accounts/folding.py), shared by the works search and
title + author matching: what a reader would call the same title or name folds the same."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accounts.folding import ARTICLES, ELIDED_ARTICLES, FOLDED_MAX, fold, fold_title


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        # case
        ("The QUIET Harbour", "the quiet harbour"),
        ("Straße", "strasse"),
        ("STRASSE", "strasse"),
        ("ẞ", "ss"),
        # accents (NFKD, combining marks dropped)
        ("Café", "cafe"),
        ("Cafe\u0301", "cafe"),  # the accent typed as a combining mark
        ("Les Misérables", "les miserables"),
        ("Łódź", "lodz"),
        ("İstanbul", "istanbul"),
        ("El Niño", "el nino"),
        ("Crème brûlée", "creme brulee"),
        # letters NFKD does not decompose
        ("Ørsted", "orsted"),
        ("Æsir", "aesir"),
        ("Œuvres complètes", "oeuvres completes"),
        ("Đorđe", "dorde"),
        ("Þórr", "thorr"),
        ("Eðda", "edda"),
        ("ıstanbul", "istanbul"),
        ("Ħamrun", "hamrun"),
        # compatibility forms
        ("ﬁnal ﬂight", "final flight"),
        ("Ｃａｆé", "cafe"),
        ("Op. 2²", "op 22"),
        ("Chapter Ⅻ", "chapter xii"),
        ("Ĳssel", "ijssel"),
        # punctuation and symbols (P*, S*) removed, invisible characters too
        ("Don't Stop!", "dont stop"),
        ("AC/DC", "acdc"),
        ("“Quoted” — and «guillemets»", "quoted and guillemets"),
        ("Love & Theft", "love theft"),
        ("C++ in 21 days", "c in 21 days"),
        ("£5 ★★★", "5"),
        ("Ørs\u00adted", "orsted"),  # soft hyphen
        ("Zero\u200bwidth", "zerowidth"),
        # white space collapsed and stripped
        ("  Quiet\t\n Harbour  ", "quiet harbour"),
        ("Quiet\u00a0Harbour", "quiet harbour"),
        ("Quiet\u3000Harbour", "quiet harbour"),
        # other scripts stay themselves
        ("Война и мир", "воина и мир"),
        ("Ὀδύσσεια", "οδυσσεια"),
        ("שָׁלוֹם", "שלום"),
        ("한국어", "한국어"),
        ("が", "が"),  # the voicing mark changes the letter: kept
        ("カ", "カ"),
        ("ｶﾞ", "ガ"),  # half-width katakana and its voicing mark, composed
        # nothing left
        ("", ""),
        ("?!…", ""),
        ("   ", ""),
    ],
)
def test_fold(text, folded):
    assert fold(text) == folded


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("The Quiet Harbour", "quiet harbour"),
        ("the  quiet harbour!", "quiet harbour"),
        ("Quiet Harbour", "quiet harbour"),
        ("A Tale of Two Cities", "tale of two cities"),
        ("An Inspector Calls", "inspector calls"),
        ("“The Raven”", "raven"),
        ("Le Petit Prince", "petit prince"),
        ("La Peste", "peste"),
        ("Les Misérables", "miserables"),
        ("L'Étranger", "etranger"),
        ("L’amica geniale", "amica geniale"),
        ("l' avventura", "avventura"),
        ("Un’altra vita", "altra vita"),
        ("Une saison en enfer", "saison en enfer"),
        ("Der Process", "process"),
        ("Die Blechtrommel", "blechtrommel"),
        ("Das Boot", "boot"),
        ("Eine kleine Nachtmusik", "kleine nachtmusik"),
        ("El Aleph", "aleph"),
        ("Los de abajo", "de abajo"),
        ("Las Meninas", "meninas"),
        ("Il Gattopardo", "gattopardo"),
        ("Lo Hobbit", "hobbit"),
        ("Gli indifferenti", "indifferenti"),
        ("De Avonden", "avonden"),
        ("Het Achterhuis", "achterhuis"),
        ("Een schitterend gebrek", "schitterend gebrek"),
        # only one article, only the first word, only a whole word
        ("The The", "the"),
        ("Theatre", "theatre"),
        ("Anthem", "anthem"),
        ("Under the Sea", "under the sea"),
        ("Là-bas", "labas"),  # "là" is not "la"
        ("L.A. Confidential", "la confidential"),
        ("The: A Novel", "the a novel"),
        # nothing would remain: kept
        ("The", "the"),
        ("A.", "a"),
        ("The ?!", "the"),
        ("L'", "l"),
        ("", ""),
    ],
)
def test_fold_title(text, folded):
    assert fold_title(text) == folded


def test_the_docstring_lists_exactly_the_articles_dropped():
    lines = [line.strip() for line in fold_title.__doc__.splitlines()]
    words = {
        word.strip()
        for line in lines
        if line.startswith("- ")
        for word in line.split(":", 1)[1].split(",")
    }
    assert {word for word in words if not word.endswith("'")} == ARTICLES
    assert {word[:-1] for word in words if word.endswith("'")} == ELIDED_ARTICLES


@given(st.text())
def test_folding_twice_changes_nothing(text):
    assert fold(fold(text)) == fold(text)


@given(st.text())
def test_a_folded_title_is_the_tail_of_the_folded_text(text):
    """What search relies on: a title containing fold(q) also contains fold_title(q)."""
    assert fold(text).endswith(fold_title(text))


def test_a_folded_text_fits_its_column():
    # NFKD writes U+FDFA as 18 letters: 300 of them fold far past the column.
    assert len(fold("\ufdfa" * 300)) <= FOLDED_MAX
    assert len(fold_title("The " + "\ufdfa" * 300)) <= FOLDED_MAX
