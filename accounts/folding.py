"""One folding of titles and names, shared by search and matching.

Two texts that a reader would call the same title or the same name fold to the same string:
case, accents, letters written differently in different languages, punctuation, symbols and
spacing do not count. Works search their titles with it (``Work.title_folded``), creators'
names are kept folded (``CreatorName``), and a disclosure's title and author columns are
folded the same way before they are compared (``works_registry.titles``).

It lives in ``accounts``, the bottom layer, so that accounts (names) and works (titles) both
import it: ``accounts`` imports no other app.

Changing what ``fold`` does changes what is stored: a change here needs a data migration that
folds ``Work.title_folded`` and ``CreatorName.name_folded`` again.
"""

import re
import unicodedata

# Letters that NFKD does not decompose into a base letter and an accent, written as the
# letters a reader would type without them (after case folding, so lower case only).
LETTERS = {
    "ø": "o",  # Danish, Norwegian
    "æ": "ae",  # Danish, Norwegian, Old English
    "œ": "oe",  # French
    "ł": "l",  # Polish
    "đ": "d",  # Croatian, Vietnamese
    "ð": "d",  # Icelandic, Faroese
    "þ": "th",  # Icelandic
    "ı": "i",  # Turkish dotless i
    "ħ": "h",  # Maltese
    "ŧ": "t",  # Northern Sami
    "ŋ": "ng",  # Sami
    "ƒ": "f",
    "ǥ": "g",  # Skolt Sami
    "ƀ": "b",
    "ɨ": "i",
    "ʉ": "u",
}
# (ß and ẞ need no entry: case folding writes them "ss"; ĳ, ﬁ and the like decompose.)

# Japanese voicing marks are combining marks that change the letter (か ≠ が): kept, and
# composed again at the end.
_KEPT_MARKS = {"\u3099", "\u309a"}
_CACHE_LIMIT = 100_000  # characters remembered: a hostile text cannot grow it without end

# The most characters a folded text keeps: the length of the indexed columns that store them
# (``Work.title_folded``, ``CreatorName.name_folded``) — 2,400 bytes of UTF-8 at most, within
# PostgreSQL's limit for one B-tree entry. A title's 300 characters can fold to more (NFKD
# writes "ﷺ" as 18 letters): both sides of a comparison are cut the same way.
FOLDED_MAX = 600


class _Table(dict):
    """``str.translate`` table built as characters are met: white space → one space,
    punctuation (P*), symbols (S*), controls and format characters (C*) and non-spacing or
    enclosing marks (Mn, Me: the accents NFKD split off) → removed, ``LETTERS`` → their
    spelling, anything else kept."""

    def __missing__(self, code: int):
        char = chr(code)
        category = unicodedata.category(char)
        if char.isspace():
            value = " "
        elif char in LETTERS:
            value = LETTERS[char]
        elif category[0] in "PSC" or (category in ("Mn", "Me") and char not in _KEPT_MARKS):
            value = None
        else:
            value = char
        if len(self) < _CACHE_LIMIT:
            self[code] = value
        return value


_TABLE = _Table()


def fold(text: str) -> str:
    """``text`` folded for comparison: compatibility-decomposed (NFKD: "ﬁ" → "fi", "²" → "2",
    full-width letters → letters), case-folded ("ß" → "ss"), accents removed ("é" → "e"),
    the letters in ``LETTERS`` respelled ("Ø" → "o", "Æ" → "ae", "Þ" → "th"), punctuation,
    symbols and invisible characters removed ("Don't" → "dont", "AC/DC" → "acdc"), white
    space collapsed to single spaces and stripped; then composed again (NFC), so Korean and
    Japanese stay whole syllables; at most ``FOLDED_MAX`` characters. ``fold(fold(x)) ==
    fold(x)``."""
    text = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    text = " ".join(text.translate(_TABLE).split())
    return unicodedata.normalize("NFC", text)[:FOLDED_MAX].rstrip()


# Leading articles dropped from a title, by language. Each is dropped only as a whole first
# word followed by more of the title; the elided ones only when an apostrophe joins them to
# the next word ("L'Étranger" → "etranger").
ARTICLES = frozenset(
    {
        # English
        "the", "a", "an",
        # French
        "le", "la", "les", "un", "une",
        # German
        "der", "die", "das", "ein", "eine",
        # Spanish
        "el", "los", "las", "una",
        # Italian
        "il", "lo", "gli", "uno",
        # Dutch
        "de", "het", "een",
    }
)  # fmt: skip
ELIDED_ARTICLES = frozenset({"l", "un"})  # French and Italian l', Italian un'
_APOSTROPHES = "'\u2019\u02bc\u2018`"
_FIRST_WORD = re.compile(rf"([a-z]+)(\s+|[{_APOSTROPHES}]\s*)")


def fold_title(text: str) -> str:
    """``fold(text)`` without a leading article, so "The Quiet Harbour", "Quiet Harbour" and
    "quiet harbour!" are one title. The articles dropped:

    - English: the, a, an
    - French: le, la, les, l', un, une
    - German: der, die, das, ein, eine
    - Spanish: el, la, los, las, un, una
    - Italian: il, lo, la, gli, le, l', un, un', uno, una
    - Dutch: de, het, een

    Only when something remains after it: "The" alone stays "the", "A." stays "a". Only as
    the first word, before punctuation is removed, so "L.A. Confidential" keeps its "la"."""
    # Everything ``fold`` does but removing punctuation, to see the first word as written.
    text = unicodedata.normalize("NFKD", text)
    text = unicodedata.normalize("NFKD", text.casefold())
    start = 0
    while start < len(text) and (
        text[start].isspace() or unicodedata.category(text[start])[0] in "PS"
    ):
        start += 1
    match = _FIRST_WORD.match(text, start)
    if match is not None:
        word, joint = match.groups()
        article = ELIDED_ARTICLES if joint[0] in _APOSTROPHES else ARTICLES
        if word in article:
            rest = fold(text[match.end() :])
            if rest:
                return rest
    return fold(text)
