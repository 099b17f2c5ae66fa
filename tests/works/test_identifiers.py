"""Work identifiers: published examples are accepted and normalised, typing mistakes are refused
with a message that says what is wrong."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from works import identifiers
from works.identifiers import SCHEMES, display, isbn10_to_13, normalise

# The autouse fixtures in tests/conftest.py (MEDIA_ROOT, hashing) do not matter to pure functions.
property_settings = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])


def refusal(scheme, value):
    with pytest.raises(ValidationError) as caught:
        normalise(scheme, value)
    return caught.value


# --- Valid input: (scheme, as typed, normalised) -----------------------------------------------

VALID = [
    # ISBN: Wikipedia's examples and ISBN-10s with their 978-prefixed ISBN-13s.
    ("isbn", "978-0-306-40615-7", "9780306406157"),
    ("isbn", "9780306406157", "9780306406157"),
    ("isbn", "0-306-40615-2", "9780306406157"),
    ("isbn", "0306406152", "9780306406157"),
    ("isbn", "978-3-16-148410-0", "9783161484100"),
    ("isbn", "0-8044-2957-X", "9780804429573"),
    ("isbn", "0-8044-2957-x", "9780804429573"),
    ("isbn", "99921-58-10-7", "9789992158104"),
    ("isbn", "960-425-059-0", "9789604250592"),
    ("isbn", "80-902734-1-6", "9788090273412"),
    ("isbn", "ISBN 978-0-306-40615-7", "9780306406157"),
    ("isbn", "ISBN-13: 978-0-306-40615-7", "9780306406157"),
    ("isbn", "isbn-10: 0 306 40615 2", "9780306406157"),
    ("isbn", "ISBN:0-306-40615-2", "9780306406157"),
    ("isbn", "  978 0 306 40615 7\n", "9780306406157"),
    ("isbn", "978\u20110\u2011306\u201140615\u20117", "9780306406157"),  # non-breaking hyphens
    ("isbn", "979-10-90636-07-1", "9791090636071"),
    # ISRC: the ISRC handbook's examples.
    ("isrc", "USRC17607839", "USRC17607839"),
    ("isrc", "US-RC1-76-07839", "USRC17607839"),
    ("isrc", "GBAYE0601498", "GBAYE0601498"),
    ("isrc", "GB-AYE-06-01498", "GBAYE0601498"),
    ("isrc", "gb-aye-06-01498", "GBAYE0601498"),
    ("isrc", "ISRC GB-AYE-06-01498", "GBAYE0601498"),
    ("isrc", "ISRC: GB AYE 06 01498", "GBAYE0601498"),
    ("isrc", "ISRC-GB-AYE-06-01498", "GBAYE0601498"),
    ("isrc", " usrc17607839 ", "USRC17607839"),
    # An Icelandic ISRC (country IS, registrant RC1) is not mistaken for an "ISRC" label.
    ("isrc", "ISRC10600001", "ISRC10600001"),
    # ISWC: ISO 15707's example, and MusicBrainz's test value.
    ("iswc", "T-034.524.680-1", "T0345246801"),
    ("iswc", "T0345246801", "T0345246801"),
    ("iswc", "t-034.524.680-1", "T0345246801"),
    ("iswc", "T-034524680-1", "T0345246801"),
    ("iswc", "ISWC T-034.524.680-1", "T0345246801"),
    ("iswc", "T 034 524 680 1", "T0345246801"),
    ("iswc", "T-000.000.001-0", "T0000000010"),
    # DOI: the DOI Handbook's own DOI, a Nature Physics article, resolver links and labels.
    ("doi", "10.1000/182", "10.1000/182"),
    ("doi", "10.1038/nphys1170", "10.1038/nphys1170"),
    ("doi", "10.1038/NPHYS1170", "10.1038/nphys1170"),
    ("doi", "doi:10.1000/XYZ123", "10.1000/xyz123"),
    ("doi", "DOI: 10.1000/182", "10.1000/182"),
    ("doi", "https://doi.org/10.1000/xyz123", "10.1000/xyz123"),
    ("doi", "http://dx.doi.org/10.1038/nphys1170", "10.1038/nphys1170"),
    ("doi", "https://doi.org/10.1038%2Fnphys1170", "10.1038/nphys1170"),
    ("doi", "doi.org/10.1000/182", "10.1000/182"),
    ("doi", "https://doi.org/10.1000/a%3C1%3E", "10.1000/a<1>"),
    ("doi", "10.1000.10/abc", "10.1000.10/abc"),
    ("doi", " 10.1000/182 \t", "10.1000/182"),
    # Old Wiley DOIs (SICI) contain < and >; they are not HTML.
    (
        "doi",
        "10.1002/(SICI)1097-4636(199702)34:2<131::AID-JBM1>3.0.CO;2-E",
        "10.1002/(sici)1097-4636(199702)34:2<131::aid-jbm1>3.0.co;2-e",
    ),
    # URL
    ("url", "https://example.com/", "https://example.com/"),
    ("url", "https://example.com", "https://example.com/"),
    ("url", "HTTPS://Example.COM/Path/Kept", "https://example.com/Path/Kept"),
    ("url", "https://example.com:443/a", "https://example.com/a"),
    ("url", "http://example.com:80/a", "http://example.com/a"),
    ("url", "http://example.com:443/a", "http://example.com:443/a"),
    ("url", "https://example.com:8443/a", "https://example.com:8443/a"),
    ("url", "https://example.com/a#chapter-2", "https://example.com/a"),
    ("url", "https://example.com/a?B=1&c=%20#x", "https://example.com/a?B=1&c=%20"),
    ("url", "https://bücher.example/", "https://xn--bcher-kva.example/"),
    ("url", "https://BÜCHER.example/", "https://xn--bcher-kva.example/"),
    ("url", "https://xn--bcher-kva.example/", "https://xn--bcher-kva.example/"),
    ("url", "  https://example.com/page \n", "https://example.com/page"),
    ("url", "https://192.0.2.1/", "https://192.0.2.1/"),
    ("url", "http://[2001:DB8::1]:80/", "http://[2001:db8::1]/"),
]


@pytest.mark.parametrize(("scheme", "typed", "expected"), VALID)
def test_published_identifiers_are_accepted_and_normalised(scheme, typed, expected):
    assert normalise(scheme, typed) == expected


@pytest.mark.parametrize(("scheme", "typed", "expected"), VALID)
def test_normalising_twice_changes_nothing(scheme, typed, expected):
    assert normalise(scheme, normalise(scheme, typed)) == expected


@pytest.mark.parametrize(
    ("scheme", "function"),
    [
        ("isbn", identifiers.normalise_isbn),
        ("isrc", identifiers.normalise_isrc),
        ("iswc", identifiers.normalise_iswc),
        ("doi", identifiers.normalise_doi),
        ("url", identifiers.normalise_url),
    ],
)
def test_each_scheme_has_its_own_normaliser(scheme, function):
    for s, typed, expected in VALID:
        if s == scheme:
            assert function(typed) == expected


# --- Invalid input: (scheme, as typed, error code) ---------------------------------------------

INVALID = [
    ("isbn", "978-0-306-40615-8", "isbn_check_digit"),
    ("isbn", "0-306-40615-3", "isbn_check_digit"),
    ("isbn", "0-8044-2957-0", "isbn_check_digit"),
    ("isbn", "978-3-16-148410-1", "isbn_check_digit"),
    ("isbn", "978-0-306-40615", "isbn_length"),
    ("isbn", "0-306-40615", "isbn_length"),
    ("isbn", "978-0-306-40615-77", "isbn_length"),
    ("isbn", "978-0-3O6-40615-7", "isbn_characters"),  # a letter O for a zero
    ("isbn", "ISBN abc", "isbn_characters"),
    ("isbn", "X-306-40615-2", "isbn_characters"),
    ("isbn", "978030640615X", "isbn_characters"),
    ("isbn", "123-4-567-89012-8", "isbn_prefix"),
    ("isbn", "\u0660306406152", "isbn_characters"),  # an Arabic-Indic digit
    ("isbn", "", "empty"),
    ("isbn", "   ", "empty"),
    ("isrc", "12RC17607839", "isrc_country"),
    ("isrc", "U1RC17607839", "isrc_country"),
    ("isrc", "US-R_1-76-07839", "isrc_characters"),
    ("isrc", "US-RC1-7A-07839", "isrc_year"),
    ("isrc", "US-RC1-76-0783X", "isrc_designation"),
    ("isrc", "US-RC1-76-0783", "isrc_length"),
    ("isrc", "US-RC1-76-078399", "isrc_length"),
    ("isrc", "ÜS-RC1-76-07839", "isrc_characters"),
    ("iswc", "034.524.680-1", "iswc_prefix"),
    ("iswc", "0345246801", "iswc_prefix"),
    ("iswc", "T-034.524.680-2", "iswc_check_digit"),
    ("iswc", "T-034.524.680", "iswc_length"),
    ("iswc", "T-034.524.680-12", "iswc_length"),
    ("iswc", "T-O34.524.680-1", "iswc_characters"),
    # A widely copied example whose check digit does not satisfy ISO 15707 (it should be 3).
    ("iswc", "T-345.246.800-1", "iswc_check_digit"),
    ("doi", "11.1000/182", "doi_prefix"),
    ("doi", "1000/182", "doi_prefix"),
    ("doi", "doi:", "doi_prefix"),
    ("doi", "https://example.com/10.1000/182", "doi_prefix"),
    ("doi", "10.1000", "doi_slash"),
    ("doi", "10.1000/", "doi_suffix"),
    ("doi", "https://doi.org/10.1000/", "doi_suffix"),
    ("doi", "10.abc/182", "doi_registrant"),
    ("doi", "10./182", "doi_registrant"),
    ("doi", "10.1000./182", "doi_registrant"),
    ("doi", "10.1000/a b", "doi_characters"),
    ("doi", "10.1000/a\x00b", "doi_characters"),
    ("doi", "https://doi.org/10.1000/a%20b", "doi_characters"),
    ("doi", "https://doi.org/10.1000/a%FF", "doi_url"),
    ("url", "javascript:alert(1)", "url_scheme"),
    ("url", "JavaScript://example.com/%0Aalert(1)", "url_scheme"),
    ("url", "ftp://example.com/file", "url_scheme"),
    ("url", "data:text/html;base64,PHNjcmlwdD4=", "url_scheme"),
    ("url", "file:///etc/passwd", "url_scheme"),
    ("url", "example.com/page", "url_scheme"),
    ("url", "//example.com/page", "url_scheme"),
    ("url", "https://user:secret@example.com/", "url_credentials"),
    ("url", "https://user@example.com/", "url_credentials"),
    ("url", "https://good.example@evil.example/", "url_credentials"),
    ("url", "https://", "url_host"),
    ("url", "https:///path", "url_host"),
    ("url", "https:example.com", "url_host"),
    ("url", "https://exa mple.com/", "url_whitespace"),
    ("url", "https://example.com/a page", "url_whitespace"),
    ("url", "https://example.com/\ttab", "url_whitespace"),
    ("url", "https://example.com/\u200bhidden", "url_characters"),
    ("url", "https://example.com\\@evil.example/", "url_characters"),
    ("url", 'https://example.com/"onmouseover="x', "url_characters"),
    ("url", "https://example.com:99999/", "url_invalid"),
    ("url", "https://example.com:http/", "url_invalid"),
    ("url", "https://exa..mple.com/", "url_invalid"),
    ("url", "https://-example.com/", "url_invalid"),
    ("url", "https://ex%61mple.com/", "url_invalid"),
    ("url", "https://[::1/", "url_invalid"),
    ("url", "https://" + "a" * 64 + ".com/", "url_invalid"),
    ("url", "https://example.com/" + "a" * 1981, "url_too_long"),
    ("url", "", "empty"),
]


@pytest.mark.parametrize(("scheme", "typed", "code"), INVALID)
def test_mistakes_are_refused_with_a_specific_reason(scheme, typed, code):
    assert refusal(scheme, typed).code == code


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize(
    "typed", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!-- x -->"]
)
def test_html_is_refused_in_every_scheme(scheme, typed):
    refusal(scheme, typed)


@pytest.mark.parametrize(
    ("scheme", "typed"),
    [
        ("doi", "10.1000/<script>alert(1)</script>"),
        ("doi", "https://doi.org/10.1000/%3Cscript%3E"),
        ("isrc", "GB<b>AYE0601498"),
        ("url", "https://example.com/<script>"),
    ],
)
def test_html_inside_an_identifier_is_refused(scheme, typed):
    refusal(scheme, typed)


def test_a_url_of_exactly_2000_characters_is_accepted():
    url = "https://example.com/" + "a" * 1980
    assert len(url) == 2000
    assert normalise("url", url) == url


def test_overlong_input_is_refused_without_being_processed():
    assert refusal("doi", "10.1000/" + "a" * 5000).code == "too_long"


def test_unknown_scheme_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown identifier scheme"):
        normalise("issn", "0028-0836")
    with pytest.raises(ValueError):
        display("ISBN", "9780306406157")


# --- Messages a person reads -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "typed", "message"),
    [
        (
            "isbn",
            "978-0-306-40615-8",
            "This ISBN's check digit does not match: please check it for a typing mistake.",
        ),
        (
            "isbn",
            "978-0-306-4061-5",
            "An ISBN has 10 or 13 digits (hyphens and spaces are fine); this one has 12.",
        ),
        (
            "url",
            "ftp://example.com/",
            "Only web addresses starting with http:// or https:// can be registered.",
        ),
        (
            "iswc",
            "T-034.524.680-2",
            "This ISWC's check digit does not match: please check it for a typing mistake.",
        ),
        ("iswc", "0345246801", "An ISWC starts with the letter T, as in T-034.524.680-1."),
    ],
)
def test_messages_are_plain_and_specific(scheme, typed, message):
    assert refusal(scheme, typed).messages == [message]


def test_isrc_message_names_the_wrong_part_and_shows_the_shape():
    (message,) = refusal("isrc", "12-AYE-06-01498").messages
    assert message.startswith("The first 2 characters of an ISRC are the country code")
    assert "An ISRC looks like GB-AYE-06-01498: 2 letters for the country" in message


def test_isrc_message_counts_the_characters():
    (message,) = refusal("isrc", "GB-AYE-06-0149").messages
    assert "this one has 11." in message


def test_messages_never_repeat_what_was_typed():
    typed = "https://user:hunter2@example.com/"
    assert "hunter2" not in " ".join(refusal("url", typed).messages)


# --- ISBN-10 to ISBN-13 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("isbn10", "isbn13"),
    [
        ("0-306-40615-2", "9780306406157"),
        ("0-8044-2957-X", "9780804429573"),
        ("99921-58-10-7", "9789992158104"),
        ("960-425-059-0", "9789604250592"),
        ("80-902734-1-6", "9788090273412"),
    ],
)
def test_isbn10_converts_to_a_978_isbn13(isbn10, isbn13):
    assert isbn10_to_13(isbn10) == isbn13
    assert normalise("isbn", isbn13) == isbn13


@pytest.mark.parametrize("isbn13", ["978-0-306-40615-7", "979-10-90636-07-1"])
def test_isbn10_to_13_refuses_a_13_digit_isbn(isbn13):
    # There is no 979 ISBN-10, and a 978 number is already converted: both are refused.
    with pytest.raises(ValidationError) as caught:
        isbn10_to_13(isbn13)
    assert caught.value.code == "isbn_not_10"


def test_isbn10_to_13_checks_the_check_digit():
    with pytest.raises(ValidationError) as caught:
        isbn10_to_13("0-306-40615-3")
    assert caught.value.code == "isbn_check_digit"


# --- Display -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scheme", "stored", "shown"),
    [
        ("isbn", "9780306406157", "9780306406157"),
        ("isrc", "GBAYE0601498", "GB-AYE-06-01498"),
        ("isrc", "USRC17607839", "US-RC1-76-07839"),
        ("iswc", "T0345246801", "T-034.524.680-1"),
        ("doi", "10.1000/182", "10.1000/182"),
        ("url", "https://example.com/a?b=1", "https://example.com/a?b=1"),
        # Something that is not a normalised value is shown as it is, not mangled.
        ("isrc", "not an isrc", "not an isrc"),
        ("iswc", "T-034.524.680-1", "T-034.524.680-1"),
    ],
)
def test_display_shows_the_familiar_form(scheme, stored, shown):
    assert display(scheme, stored) == shown


@pytest.mark.parametrize(("scheme", "typed", "expected"), VALID)
def test_what_is_displayed_can_be_typed_back_in(scheme, typed, expected):
    assert normalise(scheme, display(scheme, expected)) == expected


# --- Properties --------------------------------------------------------------------------------

_anything = st.text(max_size=60) | st.text(alphabet="0123456789Xx-. TtIiSsBbNnRrC:/", max_size=30)
_url_like = st.from_regex(
    r"\A(?i:https?)://[a-zA-Z0-9äöüß.-]{1,20}(:[0-9]{1,5})?(/[a-zA-Z0-9%._~-]{0,10}){0,3}"
    r"(\?[a-zA-Z0-9=&%]{0,10})?(#[a-z0-9]{0,5})?\Z",
    fullmatch=True,
)
_doi_like = st.from_regex(
    r"\A((?i:doi:)|(?i:https://(dx\.)?doi\.org/))?10\.[0-9]{1,5}(\.[0-9]{1,3})?/[^\s]{1,20}\Z",
    fullmatch=True,
)


def _digits(n):
    return st.text(alphabet="0123456789", min_size=n, max_size=n)


@st.composite
def _valid_isbn10(draw):
    first9 = draw(_digits(9))
    total = sum((10 - i) * int(d) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return first9 + ("X" if check == 10 else str(check))


@st.composite
def _valid_iswc(draw):
    body = draw(_digits(9))
    check = (10 - (1 + sum(i * int(d) for i, d in enumerate(body, start=1))) % 10) % 10
    return f"T-{body[:3]}.{body[3:6]}.{body[6:]}-{check}"


@property_settings
@given(scheme=st.sampled_from(SCHEMES), typed=_anything)
def test_any_accepted_input_normalises_to_a_fixed_point(scheme, typed):
    try:
        once = normalise(scheme, typed)
    except ValidationError:
        return
    assert normalise(scheme, once) == once
    assert normalise(scheme, display(scheme, once)) == once


@property_settings
@given(typed=_url_like)
def test_url_normalisation_is_idempotent(typed):
    try:
        once = normalise("url", typed)
    except ValidationError:
        return
    assert normalise("url", once) == once
    assert once.startswith(("http://", "https://"))
    assert "#" not in once


@property_settings
@given(typed=_doi_like)
def test_doi_normalisation_is_idempotent(typed):
    try:
        once = normalise("doi", typed)
    except ValidationError:
        return
    assert normalise("doi", once) == once
    assert once.startswith("10.")
    assert once == once.lower() or not once.isascii()


@property_settings
@given(isbn10=_valid_isbn10())
def test_every_valid_isbn10_becomes_a_valid_978_isbn13(isbn10):
    isbn13 = normalise("isbn", isbn10)
    assert isbn13.startswith("978")
    assert isbn13[3:12] == isbn10[:9]
    assert normalise("isbn", isbn13) == isbn13


@property_settings
@given(iswc=_valid_iswc(), position=st.integers(min_value=2, max_value=14))
def test_a_changed_iswc_digit_is_caught(iswc, position):
    if not iswc[position].isdigit():
        return
    changed = iswc[:position] + str((int(iswc[position]) + 1) % 10) + iswc[position + 1 :]
    assert normalise("iswc", iswc) == "T" + "".join(c for c in iswc if c.isdigit())
    assert refusal("iswc", changed).code == "iswc_check_digit"
