"""A creator's site: the rule for its address, and which web addresses it covers
(docs/sites.md).

A site is a host and a path under it — ``https://ada.example/`` or ``https://host.example/ada``
— whose pages are the creator's and follow the creator's default choices once control is proven.

- ``site_address(text)`` reads what a person typed into a ``SiteAddress``: the address as it
  is fetched (``url``, the home page), and the two parts sites are matched by — ``host``
  (lower-case, punycode, ``www.`` folded, a port other than the default kept) and ``path``
  (``""`` for the whole host, else ``/art``: no trailing slash). Web addresses follow the
  portal's one rule (``works.identifiers.normalise_typed_url``: a bare domain is ``https://``);
  on top of it a site has no query, no fragment, no user name or password, at most
  ``MAX_SITE_URL_LENGTH`` characters, and a host that is a public domain name: not an IP
  address, not a one-label or private name (``localhost``, ``*.local``, ``*.internal`` …;
  ``localhost`` only where ``NOTICES_WEBHOOK_ALLOW_LOOPBACK`` lets the checks reach this
  machine: the tests and the demo).
- ``url_key(url)``: ``(host, path)`` of a normalised web address, as sites are matched;
  ``covers(site_path, path)``: whether a site's path covers an address's path — equal, or
  continuing after a ``/`` (``/art`` covers ``/art`` and ``/art/x``, not ``/artificial``).
  ``http`` and ``https`` are the same site; so are ``www.ada.example`` and ``ada.example``.
"""

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

from works.identifiers import normalise_typed_url

MAX_SITE_URL_LENGTH = 500
# Names that never reach the public internet: a site cannot live there.
PRIVATE_SUFFIXES = (
    ".localhost",
    ".local",
    ".localdomain",
    ".internal",
    ".intranet",
    ".private",
    ".corp",
    ".home",
    ".lan",
    ".arpa",
)


@dataclass(frozen=True)
class SiteAddress:
    url: str  # scheme://host[:port]/path, as fetched (the site's home page)
    host: str  # matching key: www. folded, port kept when not the default
    path: str  # "" for the whole host, else "/…" without a trailing slash


def _fail(message: str, code: str):
    raise ValidationError(message, code=code)


def fold_www(netloc: str) -> str:
    """``www.ada.example`` → ``ada.example`` (a port stays); ``www.example`` stays itself."""
    rest = netloc[4:] if netloc.startswith("www.") else ""
    return rest if "." in rest.split(":", 1)[0] else netloc


def url_key(url: str) -> tuple[str, str]:
    """``(host, path)`` of a normalised http(s) address, as sites are matched: the scheme,
    query and fragment left out, ``www.`` folded, the path without its trailing slash."""
    parts = urlsplit(url)
    return fold_www(parts.netloc.lower()), parts.path.rstrip("/")


def covers(site_path: str, path: str) -> bool:
    """Whether a site at ``site_path`` covers an address whose path is ``path`` (both as
    ``url_key`` gives them)."""
    return not site_path or path == site_path or path.startswith(site_path + "/")


def _check_host(hostname: str) -> None:
    name = hostname.rstrip(".")
    if hostname.startswith("[") or _is_ip(name):
        _fail("A site is named by its domain (like ada.example), not by an IP address.", "site_ip")
    if name == "localhost" and settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK:
        return  # tests and the demo: their sites are served on this machine
    if len(name) > 253:  # the most a domain name may have, written in punycode
        _fail("This site's domain is too long to be a domain name.", "site_host")
    labels = name.split(".")
    if len(labels) < 2 or name == "localhost" or name.endswith(PRIVATE_SUFFIXES):
        _fail(
            "This is a private name, not a site on the public web: enter the address people "
            "visit, like https://ada.example/.",
            "site_private",
        )
    if labels[-1].isdigit():
        _fail("This site's domain is not valid: please check it.", "site_ip")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


def site_address(text: str) -> SiteAddress:
    """What a person typed, as a site's address; ``ValidationError`` with a clear message
    (never repeating the input) when it cannot be one."""
    text = (text or "").strip()
    if not text:
        _fail("Enter your site's address, like https://ada.example/.", "empty")
    if len(text) > MAX_SITE_URL_LENGTH:
        _fail(
            f"A site's address can be at most {MAX_SITE_URL_LENGTH} characters long.",
            "site_too_long",
        )
    if "?" in text or "#" in text:
        _fail(
            "A site's address has no “?…” or “#…” part: enter the address of its home page, "
            "like https://ada.example/ or https://host.example/ada.",
            "site_query",
        )
    url = normalise_typed_url(text)  # scheme, credentials, host name: the portal's one rule
    parts = urlsplit(url)
    _check_host(parts.hostname or "")
    netloc = parts.netloc.replace(parts.hostname, parts.hostname.rstrip("."), 1)
    path = parts.path.rstrip("/")
    segments = path.split("/")
    if "." in segments or ".." in segments:
        _fail("A site's address cannot contain /./ or /../.", "site_path")
    if "/.well-known/" in path + "/":
        _fail("A site's address cannot be under /.well-known/.", "site_path")
    url = f"{parts.scheme}://{netloc}{path or '/'}"
    if len(url) > MAX_SITE_URL_LENGTH:  # an international name grows when written in punycode
        _fail(
            f"A site's address can be at most {MAX_SITE_URL_LENGTH} characters long.",
            "site_too_long",
        )
    return SiteAddress(url=url, host=fold_www(netloc), path=path)
