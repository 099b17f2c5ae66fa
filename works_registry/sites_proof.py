"""Looking for a site's token where its creator published it (docs/sites.md, "Proving control").

``prove(url, token)`` tries, in order:

1. the file ``/.well-known/creator-consent.txt`` on the site's host — the token anywhere in
   its first ``MAX_FILE_BYTES``, as a whole word (one file may list several tokens);
2. the site's home page (its address) — ``<meta name="creator-consent" content="TOKEN">`` in
   its first ``MAX_PAGE_BYTES``, read with the standard library's HTML parser (several tags,
   or several tokens in one ``content``, are fine).

Every request goes through the webhook channel's guard (``notices.webhooks.fetch``): the host's
every address must be public — private, loopback, link-local… refused before any connection
(loopback only with ``NOTICES_WEBHOOK_ALLOW_LOOPBACK``, the tests' and the demo's setting) —,
one deadline of ``SITES_CHECK_TIMEOUT`` seconds per request, bounded reads. Redirects are
followed, at most ``MAX_REDIRECTS``, each new address checked by the guard again (a redirect to
a private address is refused like one typed in). Always ``https``; plain ``http`` only for a
site declared with it while loopback is allowed (the tests' local server).

It runs in the worker, outside any database transaction; it never raises for what a site does.
"""

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from notices.transports import TransportError
from notices.webhooks import fetch

WELL_KNOWN_PATH = "/.well-known/creator-consent.txt"
META_NAME = "creator-consent"
MAX_FILE_BYTES = 64 * 1024
MAX_PAGE_BYTES = 1024 * 1024
MAX_REDIRECTS = 3
USER_AGENT = "CreatorConsentPortal-SiteCheck/1 (+{site_url})"


@dataclass(frozen=True)
class Proof:
    ok: bool
    method: str  # "file" or "meta" when ok
    message: str  # what happened, in plain words, for the creator


class _MetaTokens(HTMLParser):
    """The words of every ``<meta name="creator-consent" content="…">`` (name in any case)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tokens: set[str] = set()

    def handle_starttag(self, tag, attrs):
        if tag != "meta":
            return
        attributes = {name.lower(): value or "" for name, value in attrs}
        if attributes.get("name", "").strip().lower() == META_NAME:
            self.tokens.update(attributes.get("content", "").replace(",", " ").split())

    handle_startendtag = handle_starttag


def meta_tokens(html: str) -> set[str]:
    parser = _MetaTokens()
    parser.feed(html)
    parser.close()
    return parser.tokens


class _Failed(Exception):
    pass


def _get(url: str, max_body: int):
    """The final answer for ``url`` after at most ``MAX_REDIRECTS`` redirects, each fetched
    through the guard; ``_Failed`` with a plain message otherwise."""
    headers = {"User-Agent": USER_AGENT.format(site_url=settings.SITE_URL), "Accept": "*/*"}
    for _ in range(MAX_REDIRECTS + 1):
        try:
            answer = fetch(
                url,
                timeout=settings.SITES_CHECK_TIMEOUT,
                max_body=max_body,
                headers=headers,
                what="Site addresses",
                target="site address",
            )
        except TransportError as exc:
            raise _Failed(f"{url}: {exc.message}") from None
        location = answer.headers.get("Location")
        if answer.status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location.strip())
            if urlsplit(url).scheme not in ("http", "https"):
                raise _Failed(f"{url}: a redirect to something that is not a web address.")
            continue
        if not 200 <= answer.status < 300:
            raise _Failed(f"{url} answered HTTP {answer.status}.")
        return answer
    raise _Failed(f"{url}: more than {MAX_REDIRECTS} redirects.")


def _text(answer) -> str:
    charset = answer.headers.get_content_charset() or "utf-8"
    try:
        return answer.body.decode(charset, errors="replace")
    except LookupError:  # a charset Python does not know
        return answer.body.decode("utf-8", errors="replace")


def check_urls(url: str) -> tuple[str, str]:
    """``(file URL, home page URL)`` to look at for the site whose home page is ``url``."""
    parts = urlsplit(url)
    scheme = "https"
    if parts.scheme == "http" and settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK:
        scheme = "http"  # the tests' and the demo's local servers
    base = f"{scheme}://{parts.netloc}"
    return base + WELL_KNOWN_PATH, base + (parts.path or "/")


def prove(url: str, token: str) -> Proof:
    """Whether ``token`` is published for the site whose home page is ``url``."""
    file_url, home_url = check_urls(url)
    try:
        answer = _get(file_url, MAX_FILE_BYTES)
    except _Failed as exc:
        file_said = str(exc)
    else:
        if token in _text(answer).split():
            return Proof(True, "file", f"The token was found in {file_url}.")
        file_said = f"{file_url} does not contain this site's token."
    try:
        answer = _get(home_url, MAX_PAGE_BYTES)
    except _Failed as exc:
        page_said = str(exc)
    else:
        if token in meta_tokens(_text(answer)):
            return Proof(True, "meta", f"The token was found in a meta tag of {home_url}.")
        page_said = f"{home_url} has no creator-consent meta tag with this site's token."
    return Proof(False, "", f"{file_said} {page_said}")
