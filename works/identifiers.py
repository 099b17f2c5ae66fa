"""Normalise and validate the identifiers creators register their works under.

Each ``normalise_<scheme>`` takes what a person typed or pasted and returns one canonical string,
so that the same work is stored, compared and matched once however it was written; bad input
raises ``ValidationError`` with a plain message saying what is wrong (never echoing the input).
``display`` turns a stored value back into the form people are used to reading.

Pure functions: no database, no network.
"""

import ipaddress
import re
import unicodedata
from urllib.parse import unquote, urlsplit

from django import forms
from django.core.exceptions import ValidationError

SCHEMES = ("isbn", "isrc", "iswc", "doi", "url")

MAX_INPUT_LENGTH = 2000
MAX_URL_LENGTH = 2000

# What people put between groups: spaces (incl. no-break), hyphen-minus and Unicode dashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
# Anything that looks like the start of an HTML tag or comment.
_HTML_TAG = re.compile(r"<\s*[A-Za-z/!?]")


def _fail(message, code, **params):
    raise ValidationError(message, code=code, params=params or None)


def _prepare(value, name):
    """Strip surrounding whitespace; refuse empty, overlong and HTML-looking input."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        _fail(f"Enter {name}.", "empty")
    if len(text) > MAX_INPUT_LENGTH:
        _fail(f"This is too long to be {name}.", "too_long")
    if _HTML_TAG.search(text):
        _fail(f"This looks like HTML, not {name}.", "html")
    return text


# --- ISBN (ISO 2108) ---------------------------------------------------------------------------

_ISBN_PREFIX = re.compile(r"^ISBN(?:[\s\-]*1[03](?![0-9]))?\s*:?\s*", re.IGNORECASE)


def _isbn10_check(first9):
    total = sum((10 - i) * int(d) for i, d in enumerate(first9))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def _isbn13_check(first12):
    total = sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(first12))
    return str((10 - total % 10) % 10)


def _isbn_compact(value):
    text = _prepare(value, "an ISBN")
    text = _ISBN_PREFIX.sub("", text, count=1)
    compact = _SEPARATORS.sub("", text).upper()
    if not re.fullmatch(r"[0-9X]*", compact):
        _fail(
            "An ISBN is made of digits only (and an X as the last character of a 10-digit "
            "ISBN); hyphens and spaces are fine.",
            "isbn_characters",
        )
    if len(compact) not in (10, 13):
        _fail(
            "An ISBN has 10 or 13 digits (hyphens and spaces are fine); this one has %(count)s.",
            "isbn_length",
            count=len(compact),
        )
    if "X" in compact[:-1] or (len(compact) == 13 and compact.endswith("X")):
        _fail(
            "Only the last character of a 10-digit ISBN can be an X; everything else is digits.",
            "isbn_characters",
        )
    return compact


def _isbn_check_digit_error():
    _fail(
        "This ISBN's check digit does not match: please check it for a typing mistake.",
        "isbn_check_digit",
    )


def _convert_isbn10(compact):
    if _isbn10_check(compact[:9]) != compact[9]:
        _isbn_check_digit_error()
    # ISBN-10s were all absorbed into the 978 prefix; 979 numbers never had a 10-digit form.
    first12 = "978" + compact[:9]
    return first12 + _isbn13_check(first12)


def isbn10_to_13(value: str) -> str:
    """Convert a 10-digit ISBN to its 13-digit form, which always starts with 978."""
    compact = _isbn_compact(value)
    if len(compact) != 10:
        _fail(
            "Only a 10-digit ISBN can be converted to 13 digits; this one already has 13.",
            "isbn_not_10",
        )
    return _convert_isbn10(compact)


def normalise_isbn(value: str) -> str:
    """Return the 13 digits of an ISBN-10 or ISBN-13, after checking its check digit."""
    compact = _isbn_compact(value)
    if len(compact) == 10:
        return _convert_isbn10(compact)
    if compact[:3] not in ("978", "979"):
        _fail("A 13-digit ISBN starts with 978 or 979.", "isbn_prefix")
    if _isbn13_check(compact[:12]) != compact[12]:
        _isbn_check_digit_error()
    return compact


# --- ISRC (ISO 3901) ---------------------------------------------------------------------------

_ISRC_SHAPE = (
    "An ISRC looks like GB-AYE-06-01498: 2 letters for the country, 3 letters or digits for "
    "the registrant, 2 digits for the year and 5 digits."
)
_ISRC_PARTS = (
    # (slice, pattern, message, code)
    (
        slice(0, 2),
        r"[A-Z]{2}",
        "The first 2 characters of an ISRC are the country code and must be letters "
        "(as in GB or US).",
        "isrc_country",
    ),
    (
        slice(2, 5),
        r"[A-Z0-9]{3}",
        "Characters 3 to 5 of an ISRC are the registrant code and must be letters or digits.",
        "isrc_registrant",
    ),
    (
        slice(5, 7),
        r"[0-9]{2}",
        "Characters 6 and 7 of an ISRC are the year of reference and must be digits.",
        "isrc_year",
    ),
    (
        slice(7, 12),
        r"[0-9]{5}",
        "The last 5 characters of an ISRC are the designation code and must be digits.",
        "isrc_designation",
    ),
)


def normalise_isrc(value: str) -> str:
    """Return an ISRC as 12 upper-case letters and digits without separators."""
    text = _prepare(value, "an ISRC")
    if not text.isascii():
        _fail(
            "An ISRC is made of letters A to Z and digits only; hyphens and spaces are fine.",
            "isrc_characters",
        )
    text = text.upper()
    # "ISRC" may label the code ("ISRC: GB-AYE-06-01498"), but "ISRC10600001" is itself a valid
    # Icelandic ISRC (country IS, registrant RC1), so only drop the label when it is clearly one.
    labelled = re.match(r"ISRC(?:\s*:\s*|\s+)", text)
    if labelled:
        text = text[labelled.end() :]
    elif text.startswith("ISRC") and len(_SEPARATORS.sub("", text)) == 16:
        text = text[4:]
    compact = _SEPARATORS.sub("", text)
    if not re.fullmatch(r"[A-Z0-9]*", compact):
        _fail(
            "An ISRC is made of letters A to Z and digits only; hyphens and spaces are fine.",
            "isrc_characters",
        )
    if len(compact) != 12:
        _fail(
            "An ISRC has 12 letters and digits (hyphens and spaces are fine); this one has "
            "%(count)s. " + _ISRC_SHAPE,
            "isrc_length",
            count=len(compact),
        )
    for part, pattern, message, code in _ISRC_PARTS:
        if not re.fullmatch(pattern, compact[part]):
            _fail(message + " " + _ISRC_SHAPE, code)
    return compact


# --- ISWC (ISO 15707) --------------------------------------------------------------------------

_ISWC_EXAMPLE = "T-034.524.680-1"


def _iswc_check(digits9):
    total = 1 + sum(i * int(d) for i, d in enumerate(digits9, start=1))
    return str((10 - total % 10) % 10)


def normalise_iswc(value: str) -> str:
    """Return an ISWC as "T" followed by its 10 digits, after checking its check digit."""
    text = _prepare(value, "an ISWC")
    text = re.sub(r"^ISWC\s*:?\s*", "", text, count=1, flags=re.IGNORECASE)
    compact = re.sub(r"[\s.\-\u2010-\u2015\u2212]+", "", text).upper()
    if not compact.startswith("T"):
        _fail(f"An ISWC starts with the letter T, as in {_ISWC_EXAMPLE}.", "iswc_prefix")
    digits = compact[1:]
    if not re.fullmatch(r"[0-9]*", digits):
        _fail(
            f"An ISWC is the letter T followed by digits only, as in {_ISWC_EXAMPLE}; "
            "hyphens, dots and spaces are fine.",
            "iswc_characters",
        )
    if len(digits) != 10:
        _fail(
            f"An ISWC is the letter T followed by 10 digits, as in {_ISWC_EXAMPLE}; "
            "this one has %(count)s digits.",
            "iswc_length",
            count=len(digits),
        )
    if _iswc_check(digits[:9]) != digits[9]:
        _fail(
            "This ISWC's check digit does not match: please check it for a typing mistake.",
            "iswc_check_digit",
        )
    return compact


# --- DOI (ISO 26324) ---------------------------------------------------------------------------

_DOI_EXAMPLE = "10.1000/182"
_DOI_RESOLVER = re.compile(r"^(?:https?://)?(?:dx\.|www\.)?doi\.org/", re.IGNORECASE)
_DOI_LABEL = re.compile(r"^doi(?::\s*|\s+)", re.IGNORECASE)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _has_space_or_control(text):
    return any(ch.isspace() or unicodedata.category(ch)[0] == "C" for ch in text)


def normalise_doi(value: str) -> str:
    """Return a DOI lower-cased and without "doi:" or a resolver address in front."""
    text = _prepare(value, "a DOI")
    if _DOI_RESOLVER.match(text):
        # A resolver address is a URL: its path holds the DOI, percent-encoded.
        if not re.match(r"^https?://", text, re.IGNORECASE):
            text = "https://" + text
        try:
            path = urlsplit(text).path
            text = unquote(path[1:], errors="strict")
        except (ValueError, UnicodeDecodeError):
            _fail("This DOI link is not a valid web address.", "doi_url")
        if _HTML_TAG.search(text):
            _fail("This looks like HTML, not a DOI.", "html")
    else:
        text = _DOI_LABEL.sub("", text, count=1)
    if not text.startswith("10."):
        _fail(
            f"A DOI starts with 10. followed by the registrant's number, as in {_DOI_EXAMPLE}.",
            "doi_prefix",
        )
    prefix, slash, suffix = text.partition("/")
    if not slash:
        _fail(
            f"A DOI has a slash between its prefix and its suffix, as in {_DOI_EXAMPLE}.",
            "doi_slash",
        )
    if not re.fullmatch(r"10\.[0-9]+(?:\.[0-9]+)*", prefix):
        _fail(
            "The part of a DOI before the slash is 10. followed by digits (dots are allowed "
            f"between them), as in {_DOI_EXAMPLE}.",
            "doi_registrant",
        )
    if not suffix:
        _fail(
            "This DOI has nothing after the slash; that part names the work, as in "
            f"{_DOI_EXAMPLE}.",
            "doi_suffix",
        )
    if _has_space_or_control(suffix):
        _fail("A DOI cannot contain spaces or invisible characters.", "doi_characters")
    # DOIs are case-insensitive for ASCII letters; other letters are left as they are.
    return text.translate(_ASCII_LOWER)


# --- URL ---------------------------------------------------------------------------------------

# Query parameters that say how a visitor arrived, not what the page is: dropped, so that the
# same page shared through a newsletter, an ad or a social network is one address. A name ending
# in "*" is a prefix. Matched case-insensitively on the decoded name; the other parameters are
# kept exactly as written and in their order.
TRACKING_PARAMETERS = (
    "utm_*",  # Google Analytics campaign tags (utm_source, utm_medium, utm_campaign, …)
    "fbclid",  # Facebook
    "gclid",  # Google Ads
    "dclid",  # Google Display
    "gbraid",  # Google Ads (iOS)
    "wbraid",  # Google Ads (iOS, web to app)
    "msclkid",  # Microsoft Ads
    "yclid",  # Yandex
    "twclid",  # X / Twitter
    "ttclid",  # TikTok
    "li_fat_id",  # LinkedIn
    "igshid",  # Instagram share
    "mc_eid",  # Mailchimp subscriber
    "mc_cid",  # Mailchimp campaign
    "_ga",  # Google Analytics cross-domain
    "_gl",  # Google tag linker
    "_hsenc",  # HubSpot
    "_hsmi",  # HubSpot
    "mkt_tok",  # Marketo
    "oly_anon_id",  # Omeda
    "oly_enc_id",  # Omeda
    "vero_id",  # Vero
)
_TRACKING_EXACT = frozenset(p for p in TRACKING_PARAMETERS if not p.endswith("*"))
_TRACKING_PREFIXES = tuple(p[:-1] for p in TRACKING_PARAMETERS if p.endswith("*"))

_URL_SCHEME_MESSAGE = "Only web addresses starting with http:// or https:// can be registered."
_URL_DEFAULT_PORTS = {"http": 80, "https": 443}
_URL_FORBIDDEN = set('<>"`\\')
_HOST_LABEL = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?")


def _url_invalid(what="This web address is not valid: please check it."):
    _fail(what, "url_invalid")


def _normalise_host(hostname):
    if not hostname:
        _fail("This web address has no site name after the //.", "url_host")
    if ":" in hostname:  # an IPv6 literal (brackets already removed by urlsplit)
        try:
            address = ipaddress.IPv6Address(hostname)
        except ValueError:
            _url_invalid("The IP address in this web address is not valid.")
        return f"[{address.compressed}]"
    try:
        host = hostname.encode("idna").decode("ascii").lower()
    except UnicodeError:
        _url_invalid("The site name in this web address is not valid.")
    labels = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if not all(len(label) <= 63 and _HOST_LABEL.fullmatch(label) for label in labels):
        _url_invalid("The site name in this web address is not valid.")
    return host


def _is_tracking(pair: str) -> bool:
    name = unquote(pair.partition("=")[0].replace("+", " ")).lower()
    return name in _TRACKING_EXACT or name.startswith(_TRACKING_PREFIXES)


def _without_tracking(query: str) -> str:
    """``query`` without its tracking parameters (``TRACKING_PARAMETERS``) and empty pairs;
    the others exactly as written, in their order."""
    return "&".join(pair for pair in query.split("&") if pair and not _is_tracking(pair))


def normalise_url(value: str) -> str:
    """Return an http(s) address with scheme and host lower-cased, the host in punycode,
    no default port, no tracking parameters (``TRACKING_PARAMETERS``) and no fragment.

    The one rule for every stored and looked-up address; ``normalise_typed_url`` is the same
    rule where a person types an address and may leave out the ``https://``."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        _fail("Enter a web address.", "empty")
    if len(text) > MAX_URL_LENGTH:
        _fail(
            "A web address can be at most 2,000 characters long; this one has %(count)s.",
            "url_too_long",
            count=len(text),
        )
    if any(ch.isspace() for ch in text):
        _fail(
            "A web address cannot contain spaces; if the address has one, write it as %20.",
            "url_whitespace",
        )
    if _has_space_or_control(text):
        _fail(
            "This web address contains invisible characters: please type it again.",
            "url_characters",
        )
    if any(ch in _URL_FORBIDDEN for ch in text):
        _fail(
            'A web address cannot contain <, >, ", ` or a backslash; '
            "write them percent-encoded if the address needs them.",
            "url_characters",
        )
    try:
        parts = urlsplit(text)
    except ValueError:
        _url_invalid()
    scheme = parts.scheme.lower()
    if scheme not in _URL_DEFAULT_PORTS:
        _fail(_URL_SCHEME_MESSAGE, "url_scheme")
    if not text[len(scheme) + 1 :].startswith("//"):
        _fail("This web address has no site name after the //.", "url_host")
    if "@" in parts.netloc:
        _fail(
            "Web addresses with a user name or password in them cannot be registered; "
            "remove the part before the @.",
            "url_credentials",
        )
    if "%" in parts.netloc:
        _url_invalid("The site name in this web address is not valid.")
    try:
        port = parts.port
    except ValueError:
        _url_invalid("The port number in this web address is not valid.")
    host = _normalise_host(parts.hostname)
    netloc = host if port in (None, _URL_DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    result = f"{scheme}://{netloc}{parts.path or '/'}"
    query = _without_tracking(parts.query)
    if query:
        result += "?" + query
    if len(result) > MAX_URL_LENGTH:
        _fail(
            "A web address can be at most 2,000 characters long; this one has %(count)s.",
            "url_too_long",
            count=len(result),
        )
    return result


# Django's URL form field, as the profile's website field uses it: a bare domain gets https://.
_TYPED_URL = forms.URLField(assume_scheme="https")


def normalise_typed_url(value: str) -> str:
    """``normalise_url`` for an address a person typed: a bare domain (``example.com/page``)
    is read as ``https://`` — the rule of the profile's website field (Django's URLField with
    ``assume_scheme="https"``), applied by that same field's parsing."""
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    text = value.strip()
    if text and len(text) <= MAX_URL_LENGTH and not any(ch.isspace() for ch in text):
        try:
            text = _TYPED_URL.to_python(text)
        except ValidationError:
            _url_invalid()
    return normalise_url(text)


# --- Dispatch and display ----------------------------------------------------------------------

_NORMALISERS = {
    "isbn": normalise_isbn,
    "isrc": normalise_isrc,
    "iswc": normalise_iswc,
    "doi": normalise_doi,
    "url": normalise_url,
}


def _check_scheme(scheme):
    if scheme not in _NORMALISERS:
        raise ValueError(f"unknown identifier scheme {scheme!r}; expected one of {SCHEMES}")


def normalise(scheme: str, value: str) -> str:
    """Normalise ``value`` as an identifier of ``scheme`` (one of ``SCHEMES``)."""
    _check_scheme(scheme)
    return _NORMALISERS[scheme](value)


def display(scheme: str, value: str) -> str:
    """The familiar written form of a normalised value; other values come back unchanged."""
    _check_scheme(scheme)
    if scheme == "isrc" and re.fullmatch(r"[A-Z]{2}[A-Z0-9]{3}[0-9]{7}", value):
        return f"{value[:2]}-{value[2:5]}-{value[5:7]}-{value[7:]}"
    if scheme == "iswc" and re.fullmatch(r"T[0-9]{10}", value):
        return f"T-{value[1:4]}.{value[4:7]}.{value[7:10]}-{value[10]}"
    # ISBN: correct hyphenation needs the ISBN agency's range tables, so show the 13 digits.
    return value
