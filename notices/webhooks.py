"""The webhook channel: a JSON body signed per the Standard Webhooks specification.

Headers ``webhook-id`` (from the notice's key: the same on every resend), ``webhook-timestamp``
and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of id.timestamp.body>`` with the current
secret, plus the previous one during a rotation's overlap, space-separated).

The request goes out with ``http.client`` only: no proxy is ever read from the environment and
redirects are never followed. HTTPS is verified against the host name.

SSRF guard. The host is resolved once, and *every* address it resolves to must be public, or the
whole target is refused before any connection: private, loopback, link-local, multicast,
reserved, site-local (``fec0::/10``), IPv4-compatible (``::/96``) and local-use NAT64
(``64:ff9b:1::/48``) addresses, and IPv6 addresses carrying a non-public IPv4 address
(IPv4-mapped ``::ffff:a.b.c.d``, IPv4-translated ``::ffff:0:a.b.c.d``, NAT64 ``64:ff9b::/96``,
6to4 ``2002::/16``, Teredo ``2001::/32``). ``ipaddress.is_global`` alone lets several of these
through on Python 3.11. Refusing the whole target when any one address is not public (rather
than skipping that address) keeps a name that answers "public, private" from reaching the
private one when the public one is down. The connection is then made to those checked addresses
— each in turn, in the resolver's order, until one accepts — and never to the name again, so DNS
rebinding between check and connect cannot redirect it. ``NOTICES_WEBHOOK_ALLOW_LOOPBACK`` (tests
and the demo) lets loopback addresses through, and plain ``http`` only when every address the
host resolves to is loopback; anywhere else a webhook must use https.

Time and size. ``NOTICES_WEBHOOK_TIMEOUT`` bounds the whole request — connecting (all addresses
together; each gets a fair share of what is left), the TLS handshake, sending, and reading the
status line and headers — not each socket read, so a receiver trickling its answer a byte at a
time cannot hold the worker longer. The clock starts before the name is looked up (the look-up
itself cannot be cut short). The status line and headers may take at most 64 KiB. The body is
read only for an answer that is not a success, at most 64 KiB of it and only while time
remains, for the excerpt quoted in the error.

The same guard serves other requests the portal makes to addresses people give it: ``fetch``
(a GET, bounded in time and size, redirects returned rather than followed) and
``pinned_connection`` underneath it — the works registry checks creators' sites with it.

2xx is delivered; 3xx, 5xx, 408 and 429 are retried (``Retry-After`` honoured, capped at
``NOTICES_RETRY_LIMIT``); other 4xx fail at once; 410 also disables the endpoint
(``deliveries`` records it and tells the organisation).
"""

import base64
import hashlib
import hmac
import http.client
import io
import ipaddress
import json
import re
import socket
import ssl
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .answer_links import answer_url
from .models import Delivery, WebhookEndpoint
from .transports import Transport, TransportError

USER_AGENT = "CreatorConsentPortal-Webhooks/1"
MAX_RESPONSE_HEAD = 64 * 1024  # status line and headers
MAX_RESPONSE_BODY = 64 * 1024  # read only for the error message of a failed delivery
ERROR_EXCERPT_CHARS = 200


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<signature>`` for one secret (``whsec_`` + base64 key)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode()


# IPv6 ranges refused outright, whatever ``is_global`` says on this Python.
_REFUSED_IPV6 = [
    (ipaddress.IPv6Network("fec0::/10"), "site-local"),
    (ipaddress.IPv6Network("::/96"), "IPv4-compatible, deprecated"),
    (ipaddress.IPv6Network("64:ff9b:1::/48"), "local-use NAT64"),
    (ipaddress.IPv6Network("3fff::/20"), "documentation"),
    (ipaddress.IPv6Network("5f00::/16"), "segment routing"),
]
# Prefixes whose last 32 bits are an IPv4 address that a translator will connect to.
_IPV4_IN_LAST_32_BITS = [
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64 (RFC 6052)
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT, RFC 2765)
]


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to through a tunnel or translator."""
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)  # (server, client)
    if any(ip in network for network in _IPV4_IN_LAST_32_BITS):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return ip.is_global and not ip.is_multicast


def address_refusal(address: str) -> str | None:
    """Why ``address`` may not be a webhook target, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback and settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK:
        return None
    if not _is_public(ip):
        return f"{address} is not a public address"
    if isinstance(ip, ipaddress.IPv6Address):
        for network, kind in _REFUSED_IPV6:
            if ip in network:
                return f"{address} is not a public address ({kind})"
        for embedded in _embedded_ipv4(ip):
            if not _is_public(embedded):
                return f"{address} is not a public address (it leads to {embedded})"
    return None


def _is_loopback(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback


def resolve_checked(
    host: str, port: int, *, target: str = "webhook target"
) -> list[tuple[int, tuple]]:
    """Resolve ``host`` and return its addresses as (family, sockaddr), in the resolver's order
    without repeats, after checking that every one is allowed. Raises ``TransportError``
    (permanent for a refused address — "Refused <target> <host>: …" —, temporary if the name
    does not resolve). Opens no connection."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TransportError(f"Cannot resolve {host}: {exc}", unreachable=True) from exc
    addresses = []
    for family, _type, _proto, _name, sockaddr in infos:
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        reason = address_refusal(sockaddr[0])
        if reason:
            raise TransportError(f"Refused {target} {host}: {reason}", permanent=True)
        if (family, sockaddr) not in addresses:
            addresses.append((family, sockaddr))
    if not addresses:
        raise TransportError(f"Cannot resolve {host}", unreachable=True)
    return addresses


class ResponseTooLarge(http.client.HTTPException):
    pass


class _DeadlineSocket:
    """A connected socket every operation of which ends by one overall ``deadline``
    (``time.monotonic()``): before each send or read, its timeout is set to the time left.
    Reads stop after ``limit`` bytes: past it, a read raises ``ResponseTooLarge`` while the
    head is being read, and reads as end of data once ``body_started``.

    ``close`` does nothing: ``http.client`` closes its connection as soon as the head says the
    server will close, handing the socket on to the response; the owner ends it with
    ``release``."""

    def __init__(self, sock: socket.socket, deadline: float):
        self._sock, self._deadline = sock, deadline
        self.received, self.limit, self.body_started = 0, MAX_RESPONSE_HEAD, False

    def _arm(self) -> None:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the time limit for the whole request ran out")
        self._sock.settimeout(left)

    def sendall(self, data) -> None:
        self._arm()
        self._sock.sendall(data)

    def recv_into(self, buffer) -> int:
        allowed = self.limit - self.received
        if allowed <= 0:
            if self.body_started:
                return 0
            raise ResponseTooLarge(f"the response head is larger than {MAX_RESPONSE_HEAD} bytes")
        self._arm()
        count = self._sock.recv_into(memoryview(buffer)[:allowed])
        self.received += count
        return count

    def start_body(self, limit: int = MAX_RESPONSE_BODY) -> None:
        self.body_started, self.limit = True, self.received + limit

    def makefile(self, mode="rb", *args, **kwargs):
        assert mode == "rb"
        return io.BufferedReader(_DeadlineReader(self))

    def close(self) -> None:
        pass

    def release(self) -> None:
        self._sock.close()


class _DeadlineReader(io.RawIOBase):
    def __init__(self, sock: _DeadlineSocket):
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        return self._sock.recv_into(buffer)


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to already checked addresses (the Host header keeps the name), every
    step of which ends by ``deadline``."""

    def __init__(self, host, port, *, addresses, deadline):
        super().__init__(host, port)
        self._addresses, self._deadline = addresses, deadline
        self.deadline_sock: _DeadlineSocket | None = None

    def _pinned_socket(self) -> socket.socket:
        """Connect to each checked address in turn until one accepts; each try gets an equal
        share of the time left, so one silent address does not use it all up."""
        error = None
        for index, (family, sockaddr) in enumerate(self._addresses):
            left = self._deadline - time.monotonic()
            if left <= 0:
                break
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.settimeout(left / (len(self._addresses) - index))
            try:
                sock.connect(sockaddr)
            except OSError as exc:
                sock.close()
                error = exc
                continue
            except BaseException:
                sock.close()
                raise
            return sock
        raise error or TimeoutError("the time limit for the whole request ran out")

    def _wrap(self, sock: socket.socket) -> socket.socket:
        return sock

    def connect(self):
        sock = self._pinned_socket()
        try:
            left = self._deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the time limit for the whole request ran out")
            sock.settimeout(left)
            sock = self._wrap(sock)
        except BaseException:
            sock.close()
            raise
        self.sock = self.deadline_sock = _DeadlineSocket(sock, self._deadline)

    def release(self) -> None:
        self.close()
        if self.deadline_sock is not None:
            self.deadline_sock.release()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def _wrap(self, sock: socket.socket) -> socket.socket:
        return ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)


@dataclass
class PreparedWebhook:
    body: bytes
    headers: dict[str, str]
    endpoint_id: int | None


def _retry_after(value: str | None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delay-seconds or an HTTP date), at most
    ``NOTICES_RETRY_LIMIT``; None when it is missing or not understood."""
    if not value:
        return None
    value = value.strip()
    limit = float(settings.NOTICES_RETRY_LIMIT)
    if value.isascii() and value.isdigit():
        return min(float(value), limit)  # float() of a huge number is inf, not an error
    try:
        when = parsedate_to_datetime(value)
        if timezone.is_naive(when):  # "-0000" or no zone: HTTP dates are always GMT
            when = when.replace(tzinfo=UTC)
        seconds = (when - timezone.now()).total_seconds()
    except (TypeError, ValueError, IndexError, OverflowError, AttributeError):
        return None
    return min(max(seconds, 0.0), limit)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def _excerpt(text: bytes | str, chars: int = ERROR_EXCERPT_CHARS) -> str:
    """The receiver's words on one line, control characters out, at most ``chars`` long."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    text = " ".join(_CONTROL.sub(" ", text).split())
    return text if len(text) <= chars else text[: chars - 1] + "…"


def classify_status(status: int, reason: str, retry_after: str | None = None, body=b"") -> None:
    """Raise ``TransportError`` for a response that is not a success (``body``: the start of
    the response body, quoted in the message)."""
    if 200 <= status < 300:
        return
    message = f"HTTP {status} {_excerpt(reason, 80)}".strip()
    excerpt = _excerpt(body)
    said = f' — the receiver said: "{excerpt}"' if excerpt else ""
    if status == 410:
        raise TransportError(f"{message}: the endpoint is gone{said}", permanent=True, disable=True)
    if 300 <= status < 400:
        raise TransportError(f"{message} (redirects are not followed){said}")
    if status in (408, 429) or status >= 500:
        raise TransportError(message + said, retry_after=_retry_after(retry_after))
    raise TransportError(message + said, permanent=True)


def _body_start(response: http.client.HTTPResponse) -> bytes:
    """Up to ``MAX_RESPONSE_BODY`` bytes of the body, as far as it comes before the deadline;
    the status is what counts, so a body cut short is no error."""
    body = bytearray()
    try:
        while len(body) < MAX_RESPONSE_BODY:
            chunk = response.read1(MAX_RESPONSE_BODY - len(body))
            if not chunk:
                break
            body += chunk
    except (OSError, http.client.HTTPException, ValueError):
        pass
    return bytes(body)


class WebhookTransport(Transport):
    channel = Delivery.Channel.WEBHOOK

    def payload(self, delivery: Delivery) -> dict:
        """The JSON body. ``answer_url`` is the signed answer link (no account needed) and
        ``answers_api_url`` the API endpoint taking answers with the organisation's key; both
        name the notice a reminder reminds of, and both are null for a notice that asks for no
        answer (a digest)."""
        notice = delivery.notice
        answered = notice.reminds if notice.reminds_id else notice
        answers_api_url = answer_link = None
        if notice.answerable:
            answer_link = answer_url(notice)
            path = reverse("notices-api:notice-answers", args=[answered.pk])
            answers_api_url = f"{settings.SITE_URL}{path}"
        return {
            "type": "notice.created" if notice.kind == "notice" else f"notice.{notice.kind}",
            "timestamp": timezone.now().isoformat(),
            "data": {
                "id": notice.pk,
                "key": notice.key,
                "kind": notice.kind,
                "topic": notice.topic,
                "subject": notice.subject,
                "text": notice.text,
                "answer_due_at": notice.answer_due_at.isoformat() if notice.answer_due_at else None,
                "reminds": notice.reminds.key if notice.reminds_id else None,
                "developer": notice.developer.slug,
                "answer_url": answer_link,
                "answers_api_url": answers_api_url,
                "attachments": [self._attachment(notice, a) for a in notice.attachment_list()],
            },
        }

    @staticmethod
    def _attachment(notice, attachment) -> dict:
        """Each file with its SHA-256 and the API address it downloads from; its bytes inline
        (base64) only up to ``NOTICES_WEBHOOK_INLINE_MAX``, so a digest of 10,000 works does not
        make a body receivers refuse (HTTP 413)."""
        path = reverse("notices-api:notice-attachment", args=[notice.pk, attachment.pk])
        described = {
            "filename": attachment.filename,
            "content_type": attachment.content_type,
            "size": attachment.blob.size,
            "sha256": attachment.blob.sha256,
            "url": f"{settings.SITE_URL}{path}",
        }
        if attachment.blob.size <= settings.NOTICES_WEBHOOK_INLINE_MAX:
            described["content_base64"] = base64.b64encode(attachment.content).decode()
        return described

    def prepare(self, delivery: Delivery) -> PreparedWebhook:
        endpoint = (
            WebhookEndpoint.objects.filter(developer_id=delivery.notice.developer_id)
            .filter(url=delivery.recipient)
            .order_by("-is_active", "-created_at")
            .first()
        )
        if endpoint is None or not endpoint.is_active:
            raise TransportError("The webhook endpoint was removed or disabled.", permanent=True)
        body = json.dumps(self.payload(delivery), separators=(",", ":")).encode()
        msg_id = delivery.identity
        timestamp = int(time.time())
        signatures = " ".join(
            sign(secret, msg_id, timestamp, body) for secret in endpoint.signing_secrets()
        )
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signatures,
        }
        return PreparedWebhook(body=body, headers=headers, endpoint_id=endpoint.pk)

    def deliver(self, prepared: PreparedWebhook, recipient: str) -> None:
        deadline = time.monotonic() + settings.NOTICES_WEBHOOK_TIMEOUT
        conn, path = pinned_connection(recipient, deadline)
        body = b""
        try:
            with _request_errors(conn.host):
                conn.request(
                    "POST",
                    path,
                    body=prepared.body,
                    headers={**prepared.headers, "Connection": "close"},
                )
                response = conn.getresponse()
                status, reason = response.status, response.reason
                retry_after = response.getheader("Retry-After")
                if not 200 <= status < 300:
                    conn.deadline_sock.start_body()
                    body = _body_start(response)
        finally:
            conn.release()
        classify_status(status, reason, retry_after, body)


# --- The guarded connection, shared with other outgoing requests --------------------------------


def pinned_connection(
    url: str, deadline: float, *, what: str = "Webhook URLs", target: str = "webhook target"
) -> tuple[_PinnedHTTPConnection, str]:
    """``(connection, path with query)`` for an http(s) ``url``, under the guard of this module:
    the host resolved and every address checked (``resolve_checked``; refused before any
    connection), https required (plain http only to loopback, and only with
    ``NOTICES_WEBHOOK_ALLOW_LOOPBACK``), every step ending by ``deadline``. Not yet connected;
    the caller ``release()``s it. ``what`` and ``target`` name the URL in refusals."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TransportError(f"Not an http(s) URL: {url}", permanent=True)
    if parts.scheme != "https" and not settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK:
        raise TransportError(f"{what} must use https.", permanent=True)
    host = parts.hostname
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise TransportError(f"Not a valid port in {url}", permanent=True) from None
    addresses = resolve_checked(host, port, target=target)  # raises before any connection
    if parts.scheme != "https" and not all(_is_loopback(a[1][0]) for a in addresses):
        raise TransportError(
            f"{what} must use https (plain http only to this machine).", permanent=True
        )
    cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return cls(host, port, addresses=addresses, deadline=deadline), path


@contextmanager
def _request_errors(host: str):
    """Errors of a request as ``TransportError``. A host that hangs, refuses connections or
    fails TLS would do the same to every other request to it just now: "unreachable"."""
    try:
        yield
    except TimeoutError as exc:
        raise TransportError(f"Timed out talking to {host}: {exc}", unreachable=True) from exc
    except ssl.SSLError as exc:
        raise TransportError(f"TLS error with {host}: {exc}", unreachable=True) from exc
    except OSError as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}", unreachable=True) from exc
    except http.client.HTTPException as exc:
        raise TransportError(f"{type(exc).__name__}: {exc}") from exc


@dataclass(frozen=True)
class Fetched:
    """What a ``fetch`` got: the status, the headers, and the body's first ``max_body``
    bytes (``complete`` when that was all of it)."""

    status: int
    headers: http.client.HTTPMessage
    body: bytes
    complete: bool


def fetch(
    url: str,
    *,
    timeout: float,
    max_body: int,
    headers: dict[str, str] | None = None,
    what: str = "URLs",
    target: str = "address",
) -> Fetched:
    """GET ``url`` under the webhook guard (``pinned_connection``): one deadline ``timeout``
    seconds away for the whole request — body included —, at most 64 KiB of head and
    ``max_body`` bytes of body read. Redirects are not followed: a 3xx is returned, and a
    caller that follows its ``Location`` fetches it again, so the new host is checked too.
    Raises ``TransportError`` (refused, unreachable, timed out, malformed)."""
    deadline = time.monotonic() + timeout
    conn, path = pinned_connection(url, deadline, what=what, target=target)
    try:
        with _request_errors(conn.host):
            conn.request("GET", path, headers={**(headers or {}), "Connection": "close"})
            response = conn.getresponse()
            # The socket stops a little past max_body (chunked framing takes some bytes).
            conn.deadline_sock.start_body(max_body + MAX_RESPONSE_HEAD)
            body = bytearray()
            while len(body) < max_body:
                chunk = response.read1(max_body - len(body))
                if not chunk:
                    break
                body += chunk
            complete = len(body) < max_body
            return Fetched(response.status, response.headers, bytes(body), complete)
    finally:
        conn.release()


def endpoint_disable(delivery: Delivery, reason: str) -> None:
    """The endpoint answered 410 Gone: stop sending to it at once (the batch's other deliveries
    to it then fail when prepared) and tell the organisation's confirmed contacts. Runs inside
    the transaction that records the 410."""
    from accounts import mail

    from .models import DeveloperContact

    now = timezone.now()
    endpoints = WebhookEndpoint.objects.filter(
        developer_id=delivery.notice.developer_id, url=delivery.recipient, is_active=True
    )
    if not endpoints.update(is_active=False, disabled_at=now, disabled_reason=reason[:2000]):
        return
    developer = delivery.notice.developer
    addresses = list(
        DeveloperContact.objects.confirmed()
        .filter(developer=developer)
        .values_list("email", flat=True)
    )
    if addresses:
        mail.queue_templated(
            "notices/email/webhook_disabled",
            addresses,
            {"developer": developer, "url": delivery.recipient, "reason": reason},
        )
