"""The webhook channel: a JSON body signed per the Standard Webhooks specification.

Headers ``webhook-id`` (from the notice's key: the same on every resend), ``webhook-timestamp``
and ``webhook-signature`` (``v1,<base64 HMAC-SHA256 of id.timestamp.body>`` with the current
secret, plus the previous one during a rotation's overlap, space-separated).

The request goes out with ``http.client`` only: no proxy is ever read from the environment and
redirects are never followed. SSRF guard: the host is resolved once, every address must be
global (private, loopback, link-local, multicast, reserved and IPv4-mapped forms of them are
refused; ``NOTICES_WEBHOOK_ALLOW_LOOPBACK`` lets loopback through for tests and the demo), and
the connection is made to that checked address — never to the name again — so DNS rebinding
between check and connect cannot redirect it. HTTPS is verified against the host name.

2xx is delivered; 3xx, 5xx, 408 and 429 are retried (``Retry-After`` honoured); other 4xx fail
at once; 410 also disables the endpoint (``deliveries`` records it and tells the organisation).
"""

import base64
import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from .answer_links import answer_url
from .models import Delivery, WebhookEndpoint
from .transports import Transport, TransportError

USER_AGENT = "CreatorConsentPortal-Webhooks/1"


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<signature>`` for one secret (``whsec_`` + base64 key)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, to_sign, hashlib.sha256).digest()).decode()


def address_refusal(address: str) -> str | None:
    """Why ``address`` may not be a webhook target, or None if it may."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if ip.is_loopback and settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK:
        return None
    if ip.is_multicast or not ip.is_global:
        return f"{address} is not a public address"
    return None


def resolve_checked(host: str, port: int) -> tuple[int, tuple]:
    """Resolve ``host`` and return (family, sockaddr) of the first address, after checking
    that every address it resolves to is allowed. Raises ``TransportError`` (permanent for a
    refused address, temporary if the name does not resolve). Opens no connection."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except socket.gaierror as exc:
        raise TransportError(f"Cannot resolve {host}: {exc}", unreachable=True) from exc
    if not infos:
        raise TransportError(f"Cannot resolve {host}", unreachable=True)
    for _family, _type, _proto, _name, sockaddr in infos:
        reason = address_refusal(sockaddr[0])
        if reason:
            raise TransportError(f"Refused webhook target {host}: {reason}", permanent=True)
    family, _type, _proto, _name, sockaddr = infos[0]
    return family, sockaddr


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to an already checked address (the Host header keeps the name)."""

    def __init__(self, host, port, *, family, sockaddr, timeout):
        super().__init__(host, port, timeout=timeout)
        self._family, self._sockaddr = family, sockaddr

    def _pinned_socket(self):
        sock = socket.socket(self._family, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._sockaddr)
        except BaseException:
            sock.close()
            raise
        return sock

    def connect(self):
        self.sock = self._pinned_socket()


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    default_port = http.client.HTTPS_PORT

    def connect(self):
        sock = self._pinned_socket()
        self.sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)


@dataclass
class PreparedWebhook:
    body: bytes
    headers: dict[str, str]
    endpoint_id: int | None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((when - timezone.now()).total_seconds(), 0.0)


def classify_status(status: int, reason: str, retry_after: str | None = None) -> None:
    """Raise ``TransportError`` for a response that is not a success."""
    if 200 <= status < 300:
        return
    message = f"HTTP {status} {reason}".strip()
    if status == 410:
        raise TransportError(message + ": the endpoint is gone", permanent=True, disable=True)
    if 300 <= status < 400:
        raise TransportError(message + " (redirects are not followed)")
    if status in (408, 429) or status >= 500:
        raise TransportError(message, retry_after=_retry_after(retry_after))
    raise TransportError(message, permanent=True)


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
                "attachments": [
                    {
                        "filename": a.filename,
                        "content_type": a.content_type,
                        "content_base64": base64.b64encode(bytes(a.content)).decode(),
                    }
                    for a in notice.attachments.select_related("blob")
                ],
            },
        }

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
        parts = urlsplit(recipient)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TransportError(f"Not an http(s) URL: {recipient}", permanent=True)
        if parts.scheme != "https" and not settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK:
            raise TransportError("Webhook URLs must use https.", permanent=True)
        host = parts.hostname
        port = parts.port or (443 if parts.scheme == "https" else 80)
        family, sockaddr = resolve_checked(host, port)  # raises before any connection
        cls = _PinnedHTTPSConnection if parts.scheme == "https" else _PinnedHTTPConnection
        conn = cls(
            host, port, family=family, sockaddr=sockaddr, timeout=settings.NOTICES_WEBHOOK_TIMEOUT
        )
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        try:
            conn.request("POST", path, body=prepared.body, headers=prepared.headers)
            response = conn.getresponse()
            response.read(64 * 1024)
            status, reason = response.status, response.reason
            retry_after = response.getheader("Retry-After")
        except TimeoutError as exc:
            raise TransportError(f"Timed out talking to {host}: {exc}") from exc
        except ssl.SSLError as exc:
            raise TransportError(f"TLS error with {host}: {exc}") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"{type(exc).__name__}: {exc}") from exc
        finally:
            conn.close()
        classify_status(status, reason, retry_after)


def endpoint_disable(delivery: Delivery, reason: str) -> None:
    """The endpoint answered 410 Gone: stop sending to it and tell the organisation's
    confirmed contacts. Runs inside the recording transaction."""
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
