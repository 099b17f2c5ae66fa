"""Channels a notice travels over, as in healthchecks' ``hc/api/transports.py``.

A transport sends one ``Delivery`` and either returns (the recipient's server took it) or raises
``TransportError`` saying whether trying again could help (``permanent``) and whether the
address itself refused (``suppress``). It never touches the database: ``deliveries.attempt``
calls it outside any transaction and records the outcome.

Email is the first channel; webhooks come next.
"""

import functools
import logging
import secrets
import smtplib
import socket
import threading
import time
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.policy import Compat32
from io import BytesIO

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.template.loader import render_to_string
from django.utils.html import linebreaks
from django.utils.module_loading import import_string

from . import answer_links
from .models import Delivery, message_id_for

logger = logging.getLogger(__name__)

# A cached SMTP connection idle longer than this is checked with NOOP before it is used again.
IDLE_CHECK_SECONDS = 10.0


class TransportError(Exception):
    """A send that did not go through.

    ``permanent``: retrying the same message will not help (a 5xx refusal).
    ``suppress``: the recipient's address refused it, so no further notice should go there.
    ``code``: the SMTP reply code, when there was one.
    ``unreachable``: the server, not this recipient, is the trouble (no connection, a timeout,
    a session refused): other deliveries to it would fail the same way just now.
    ``retry_after``: seconds the server asked us to wait (HTTP ``Retry-After``); the next try
    comes no sooner.
    ``disable``: the endpoint itself is gone (HTTP 410): stop sending to it.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        code: int | None = None,
        suppress: bool = False,
        unreachable: bool = False,
        retry_after: float | None = None,
        disable: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.permanent = permanent
        self.code = code
        self.suppress = suppress and permanent
        self.unreachable = unreachable and not permanent
        self.retry_after = retry_after
        self.disable = disable


class Transport:
    """``send`` = ``deliver(prepare(...))``. ``prepare`` does everything but the network (it
    may read the database); ``deliver`` only talks to the network, so the engine can run it
    on its sender thread while it prepares the next delivery."""

    channel = ""

    def prepare(self, delivery: Delivery):
        return delivery

    def deliver(self, prepared, recipient: str) -> None:
        raise NotImplementedError

    def send(self, delivery: Delivery) -> None:
        self.deliver(self.prepare(delivery), delivery.recipient)


# --- Email ---------------------------------------------------------------------------------------


def _text(value) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _by_code(code: int | None, message: str, *, suppress: bool = False) -> TransportError:
    permanent = code is not None and 500 <= code < 600
    return TransportError(message, permanent=permanent, code=code, suppress=suppress)


def classify(exc: Exception, recipient: str) -> TransportError:
    """Turn what smtplib or the socket raised into a ``TransportError``.

    Django raises ``SMTPRecipientsRefused`` for a temporary 451 and a permanent 550 alike: the
    per-recipient code decides. Only a refusal of the *address* (RCPT 5xx) suppresses it; a
    refused sender or message (MAIL or DATA 5xx) fails this delivery but says nothing about the
    address. Configuration trouble (authentication, HELO) and every connection error are
    temporary: an operator can fix them while the retries wait.
    """
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refusals = {address.lower(): reply for address, reply in exc.recipients.items()}
        code, reply = refusals.get(recipient.lower()) or next(iter(refusals.values()), (None, b""))
        return _by_code(code, f"Recipient refused: {code} {_text(reply)}".strip(), suppress=True)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _by_code(exc.smtp_code, f"Sender refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPDataError):
        return _by_code(exc.smtp_code, f"Message refused: {exc.smtp_code} {_text(exc.smtp_error)}")
    if isinstance(exc, smtplib.SMTPResponseException):  # auth, HELO, connect: fixable, retry
        return TransportError(
            f"SMTP error: {exc.smtp_code} {_text(exc.smtp_error)}",
            code=exc.smtp_code,
            unreachable=True,
        )
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return TransportError(f"Connection closed by the mail server: {exc}", unreachable=True)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return TransportError(f"Timed out talking to the mail server: {exc}", unreachable=True)
    if isinstance(exc, (ConnectionError, OSError)):
        return TransportError(f"{type(exc).__name__}: {exc}", unreachable=True)
    if isinstance(exc, smtplib.SMTPException):
        return TransportError(f"{type(exc).__name__}: {exc}")
    raise exc


@dataclass
class PreparedEmail:
    message: EmailMultiAlternatives
    from_addr: str
    to_addrs: list[str]
    data: bytes


@functools.lru_cache(maxsize=4096)
def _sanitized(address: str, encoding: str) -> str:
    return sanitize_address(address, encoding)


class _QuickFolding(Compat32):
    """Python's ``compat32`` policy (the one Django's messages use), minus the ``Header``
    folding machinery for a header that already fits on one line in plain ASCII: for those
    ``Header.encode`` returns the value as it is, so the bytes are the same — at a fraction of
    the cost (folding was a quarter of building a letter)."""

    def _fold(self, name, value, sanitize):
        if (
            isinstance(value, str)
            and value.isascii()
            and "\r" not in value
            and "\n" not in value
            and value == value.strip()
            and "  " not in value
            and len(name) + 2 + len(value) <= (self.max_line_length or 78)
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_QUICK_FOLDING = _QuickFolding()


def _as_bytes(mime) -> bytes:
    """The message as Django's SMTP backend writes it (CRLF line ends)."""
    buffer = BytesIO()
    BytesGenerator(buffer, mangle_from_=False, policy=_QUICK_FOLDING).flatten(mime, linesep="\r\n")
    return buffer.getvalue()


class EmailTransport(Transport):
    """Multipart text + HTML in the portal's letterhead, the caller's attachments, ``Reply-To``
    the guild (or the portal), and the delivery's stable ``Message-ID``.

    With SMTP the connection is kept open between sends (one per sending thread), as a mail
    queue would; the file backend of the embedded default writes one file per message.
    """

    channel = Delivery.Channel.EMAIL
    _local = threading.local()

    def message(self, delivery: Delivery) -> EmailMultiAlternatives:
        notice = delivery.notice
        context = {
            "notice": notice,
            "developer": notice.developer,
            "site_name": settings.SITE_NAME,
            "site_url": settings.SITE_URL,
            "body_text": notice.text,
            # The caller's HTML is HTML by contract (built from its own escaped templates); a
            # text-only payload is escaped here.
            "body_html": notice.html or linebreaks(notice.text, autoescape=True),
            # A notice that asks for an answer carries its signed answer link (a reminder's
            # link answers the notice it reminds of); a digest carries none.
            "answer_url": answer_links.answer_url(notice) if notice.answerable else "",
            "answer_until": answer_links.link_expires_at(notice) if notice.answerable else None,
        }
        headers = {"Message-ID": delivery.identity}
        if notice.reminds_id:  # threads with the notice it is about, in the reader's mailbox
            original = message_id_for(notice.reminds.key, delivery.recipient)
            headers["In-Reply-To"] = original
            headers["References"] = original
        message = EmailMultiAlternatives(
            subject=" ".join(notice.subject.split()),
            body=render_to_string("notices/email/letter.txt", context),
            from_email=settings.NOTICES_FROM_EMAIL,
            to=[delivery.recipient],
            reply_to=[notice.reply_to or settings.NOTICES_REPLY_TO],
            headers=headers,
        )
        message.attach_alternative(
            render_to_string("notices/email/letter.html", context), "text/html"
        )
        for attachment in notice.attachment_list():
            # Read from the file storage (once per batch, notices.attachments); a store that
            # does not answer fails this attempt as a temporary failure (deliveries).
            message.attach(attachment.filename, attachment.content, attachment.content_type)
        return message

    def prepare(self, delivery: Delivery) -> "PreparedEmail":
        """Everything but the network: the message, its bytes and its envelope."""
        message = self.message(delivery)
        mime = message.message()
        for part in mime.walk():
            if part.is_multipart():
                # A random boundary of our own: the email generator would otherwise compile a
                # regular expression per part to check its own against the text. 128 random
                # bits cannot be guessed by whoever wrote the text, so they cannot collide.
                part.set_boundary(f"=_{secrets.token_hex(16)}")
        encoding = message.encoding or settings.DEFAULT_CHARSET
        return PreparedEmail(
            message=message,
            from_addr=_sanitized(message.from_email, encoding),
            to_addrs=[_sanitized(address, encoding) for address in message.recipients()],
            data=_as_bytes(mime),
        )

    def deliver(self, prepared: "PreparedEmail", recipient: str) -> None:
        """The network part only. Raises ``TransportError``."""
        try:
            self._deliver(prepared)
        except Exception as exc:  # classify() re-raises anything that is not a send failure
            self._drop_connection()
            raise classify(exc, recipient) from exc

    # --- the connection ------------------------------------------------------------------------

    def _deliver(self, prepared: "PreparedEmail") -> None:
        if not issubclass(import_string(settings.EMAIL_BACKEND), SMTPBackend):
            # The file backend (embedded default) or memory (tests): nothing to keep open.
            get_connection(timeout=settings.NOTICES_SMTP_TIMEOUT).send_messages([prepared.message])
            return
        # Django's SMTP backend opens the connection (TLS, authentication as configured); the
        # bytes are ours, built once in ``prepare``.
        backend, reused = self._smtp_backend()
        try:
            backend.connection.sendmail(prepared.from_addr, prepared.to_addrs, prepared.data)
        except smtplib.SMTPServerDisconnected:
            if not reused:
                raise
            # The server closed a connection we kept (idle timeout): once more, on a new one.
            self._drop_connection()
            backend, _ = self._smtp_backend()
            backend.connection.sendmail(prepared.from_addr, prepared.to_addrs, prepared.data)
        self._local.used_at = time.monotonic()

    def _smtp_backend(self) -> tuple[SMTPBackend, bool]:
        backend = getattr(self._local, "backend", None)
        server = (settings.EMAIL_HOST, settings.EMAIL_PORT)
        if backend is not None and getattr(self._local, "server", None) != server:
            self._drop_connection()  # the settings changed (tests): never reuse the old server
            backend = None
        reused = backend is not None and backend.connection is not None
        if reused and time.monotonic() - getattr(self._local, "used_at", 0) > IDLE_CHECK_SECONDS:
            try:
                reused = backend.connection.noop()[0] == 250
            except (smtplib.SMTPException, OSError):
                reused = False
            if not reused:
                self._drop_connection()
                backend = None
        if backend is None or backend.connection is None:
            backend = get_connection(timeout=settings.NOTICES_SMTP_TIMEOUT)
            backend.open()
            self._local.backend = backend
            self._local.server = server
            reused = False
        return backend, reused

    def _drop_connection(self) -> None:
        backend = getattr(self._local, "backend", None)
        self._local.backend = None
        if backend is not None:
            try:
                backend.close()
            except Exception:  # already broken: nothing to close cleanly
                pass


def _transports() -> dict[str, type[Transport]]:
    from .webhooks import WebhookTransport

    return {Delivery.Channel.EMAIL: EmailTransport, Delivery.Channel.WEBHOOK: WebhookTransport}


TRANSPORTS: dict[str, type[Transport]] = {Delivery.Channel.EMAIL: EmailTransport}


def transport_for(channel: str) -> Transport:
    if channel not in TRANSPORTS:
        TRANSPORTS.update(_transports())
    return TRANSPORTS[channel]()
