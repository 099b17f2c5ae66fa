"""The webhook channel against a real HTTP receiver on loopback: every request verified with
the independent ``standardwebhooks`` package, and how answers, timeouts and refused targets
are handled. Only loopback traffic, ever: refused targets are refused before any connection."""

import base64
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from accounts.models import AuditEvent
from notices import deliveries
from notices.crypto import encrypt
from notices.models import Delivery, WebhookEndpoint, webhook_id_for
from notices.services.webhooks import new_secret, webhook_endpoint_set, webhook_secret_rotate
from notices.transports import TransportError
from notices.webhooks import WebhookTransport, address_refusal

Status = Delivery.Status


@dataclass
class Reply:
    """One queued answer of the receiver. ``trickle``: seconds between single bytes of the
    whole response (status line, headers, body); ``body`` is sent with its Content-Length
    unless ``content_length`` says otherwise; ``hold``: seconds the connection then stays
    open."""

    status: int = 200
    headers: dict = field(default_factory=dict)
    delay: float = 0
    body: bytes = b""
    trickle: float = 0
    content_length: int | None = None
    hold: float = 0


class Receiver:
    """A ThreadingHTTPServer on 127.0.0.1 (https with ``tls``): answers with the queued
    replies (``Reply`` or a (status, headers, delay) tuple) in turn, then 200, and records
    every request.

    Every request it receives is verified with the independent ``standardwebhooks`` package
    against ``secret`` (set by the ``endpoint`` fixture) before anything else happens — also
    when it then answers 429, 500, a redirect or too slowly. One that does not verify is
    answered 400 and kept in ``unverified``; the ``receiver`` fixture fails the test if any is
    left there. A ``strict`` receiver (the fixture's) also refuses every request while it knows
    no secret. ``sent`` counts the response bytes it managed to write, ``finished`` the
    answers it is done with."""

    def __init__(self, tls=None, strict=False):
        self.requests = []
        self.responses = []
        self.unverified = []
        self.secret = None
        self.strict = strict
        self.sent = 0
        self.finished = 0
        self.stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                request = {"path": self.path, "headers": dict(self.headers.items()), "body": body}
                receiver.requests.append(request)
                try:
                    if receiver.secret is not None:
                        Webhook(receiver.secret).verify(body, request["headers"])
                    elif receiver.strict:
                        raise WebhookVerificationError("the receiver knows no secret")
                except WebhookVerificationError as exc:
                    receiver.unverified.append((self.path, str(exc)))
                    self._reply(Reply(400, body=b"bad signature"))
                    return
                reply = receiver.responses.pop(0) if receiver.responses else Reply()
                self._reply(Reply(*reply) if isinstance(reply, tuple) else reply)

            def _reply(self, reply):
                if reply.delay:
                    time.sleep(reply.delay)
                length = len(reply.body) if reply.content_length is None else reply.content_length
                head = f"HTTP/1.1 {reply.status} {HTTPStatus(reply.status).phrase}\r\n"
                for name, value in {**reply.headers, "Content-Length": length}.items():
                    head += f"{name}: {value}\r\n"
                data = (head + "\r\n").encode() + reply.body
                step = 1 if reply.trickle else 64 * 1024
                try:  # raw bytes, so that they can trickle
                    for start in range(0, len(data), step):
                        if receiver.stopping.is_set():
                            return
                        self.wfile.write(data[start : start + step])
                        receiver.sent += len(data[start : start + step])
                        if reply.trickle:
                            time.sleep(reply.trickle)
                    receiver.stopping.wait(reply.hold)
                except OSError:  # the client gave up (timeout, or read enough)
                    pass
                finally:
                    receiver.finished += 1
                self.close_connection = True

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:  # an ssl.SSLContext: answer https
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hooks/notices", host="127.0.0.1"):
        return f"{self.scheme}://{host}:{self.port}{path}"

    def close(self):
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


def _webhook_delivery(notice) -> Delivery:
    return notice.deliveries.get(channel=Delivery.Channel.WEBHOOK)


def _due_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def _verify(request, secret):
    return Webhook(secret).verify(request["body"], request["headers"])


def test_a_notice_is_posted_signed_and_verifies(receiver, endpoint, make_notice):
    notice = make_notice(
        subject="Removal request",
        text="Please remove these works.",
        attachments=[("works.json", json.dumps({"works": [1, 2]}), "application/json")],
    )
    delivery = _webhook_delivery(notice)
    assert delivery.recipient == receiver.url()
    assert delivery.identity == webhook_id_for(notice.key)
    assert delivery.identity.startswith("msg_") and len(delivery.identity) == 36

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.DELIVERED

    [request] = receiver.requests
    assert request["path"] == "/hooks/notices"
    assert request["headers"]["webhook-id"] == delivery.identity
    payload = _verify(request, endpoint.clear_secret)
    data = payload["data"]
    assert data["id"] == notice.pk and data["key"] == notice.key
    assert data["topic"] == notice.topic and data["developer"] == "example-ai"
    assert data["subject"] == "Removal request" and data["text"] == "Please remove these works."
    assert data["answer_due_at"] is None
    [attachment] = data["attachments"]
    assert attachment["filename"] == "works.json"
    assert json.loads(base64.b64decode(attachment["content_base64"])) == {"works": [1, 2]}
    with pytest.raises(WebhookVerificationError):
        _verify(request, "whsec_" + base64.b64encode(b"x" * 32).decode())


def test_the_secret_is_stored_encrypted_and_is_long_enough(endpoint, registry_manager):
    secret = endpoint.clear_secret
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) >= 24
    stored = WebhookEndpoint.objects.values_list("secret_encrypted", flat=True).get()
    assert secret not in stored and secret.removeprefix("whsec_") not in stored
    assert endpoint.signing_secrets() == [secret]
    assert AuditEvent.objects.filter(action="webhook.set").exists()


def test_during_a_rotation_both_secrets_sign(receiver, endpoint, registry_manager, make_notice):
    old = endpoint.clear_secret
    new = webhook_secret_rotate(actor=registry_manager, endpoint=endpoint, overlap_seconds=3600)
    assert new != old
    receiver.secret = new  # the receiver switches at once: the old secret still signs too
    assert AuditEvent.objects.filter(action="webhook.secret_rotate").exists()
    delivery = _webhook_delivery(make_notice())

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.DELIVERED

    [request] = receiver.requests
    assert request["headers"]["webhook-signature"].count("v1,") == 2
    assert _verify(request, new) and _verify(request, old)

    # After the overlap only the new secret signs.
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        previous_secret_until=timezone.now() - timedelta(seconds=1)
    )
    delivery = _webhook_delivery(make_notice())
    deliveries.attempt(delivery_id=delivery.pk)
    last = receiver.requests[-1]
    assert last["headers"]["webhook-signature"].count("v1,") == 1
    assert _verify(last, new)
    with pytest.raises(WebhookVerificationError):
        _verify(last, old)


def test_500_is_retried_with_the_same_webhook_id(receiver, endpoint, make_notice):
    receiver.responses.append((500, {}, 0))
    delivery = _webhook_delivery(make_notice())

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.QUEUED
    delivery.refresh_from_db()
    assert "HTTP 500" in delivery.last_error and delivery.next_attempt_at > timezone.now()

    _due_now(delivery)
    assert deliveries.attempt(delivery_id=delivery.pk) == Status.DELIVERED
    first, second = receiver.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == delivery.identity
    _verify(second, endpoint.clear_secret)


def test_a_timeout_is_retried(receiver, endpoint, make_notice, settings):
    settings.NOTICES_WEBHOOK_TIMEOUT = 0.3
    receiver.responses.append((200, {}, 1.0))
    delivery = _webhook_delivery(make_notice())

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.QUEUED
    delivery.refresh_from_db()
    assert "Timed out" in delivery.last_error
    assert len(receiver.requests) == 1  # it arrived, and verified (the fixture checks)


def test_429_retry_after_is_honoured(receiver, endpoint, make_notice, settings):
    settings.NOTICES_RETRY_BASE = 1.0
    receiver.responses.append((429, {"Retry-After": "120"}, 0))
    delivery = _webhook_delivery(make_notice())
    before = timezone.now()

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.QUEUED
    delivery.refresh_from_db()
    assert delivery.next_attempt_at >= before + timedelta(seconds=120)
    assert "HTTP 429" in delivery.last_error
    assert len(receiver.requests) == 1  # it arrived, and verified (the fixture checks)


def test_410_fails_disables_the_endpoint_and_tells_the_organisation(
    receiver, endpoint, make_notice, mailoutbox, django_capture_on_commit_callbacks
):
    receiver.responses.append((410, {}, 0))
    delivery = _webhook_delivery(make_notice())

    with django_capture_on_commit_callbacks(execute=True):
        assert deliveries.attempt(delivery_id=delivery.pk) == Status.FAILED

    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert "410" in endpoint.disabled_reason
    [message] = [m for m in mailoutbox if "Webhook disabled" in m.subject]
    assert message.to == ["legal@example-ai.example"]
    assert receiver.url() in message.body
    # Later notices no longer go to it.
    assert not make_notice().deliveries.filter(channel=Delivery.Channel.WEBHOOK).exists()


def test_404_fails_at_once(receiver, endpoint, make_notice):
    receiver.responses.append((404, {}, 0))
    delivery = _webhook_delivery(make_notice())

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.FAILED
    endpoint.refresh_from_db()
    assert endpoint.is_active


def test_a_redirect_is_not_followed_and_is_retried(receiver, endpoint, make_notice):
    receiver.responses.append((302, {"Location": receiver.url("/elsewhere")}, 0))
    delivery = _webhook_delivery(make_notice())

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.QUEUED
    assert [r["path"] for r in receiver.requests] == ["/hooks/notices"]
    delivery.refresh_from_db()
    assert "302" in delivery.last_error


@pytest.fixture
def no_connect(monkeypatch):
    """Fails the test if any outgoing connection is attempted."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise AssertionError(f"connection attempted to {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    return attempts


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.1/hooks",
        "https://192.168.1.10:8080/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/hooks",
        "https://224.0.0.1/hooks",
        "https://[::ffff:10.0.0.1]/hooks",
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",
        "https://[2002:a00:1::]/hooks",
        "https://[fec0::1]/hooks",
    ],
)
def test_private_targets_are_refused_when_saved_and_before_connecting(
    url, developer, make_notice, registry_manager, settings, no_connect
):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True  # only loopback: private stays refused
    with pytest.raises(ValidationError, match="not a public address|Webhooks cannot go there"):
        webhook_endpoint_set(actor=registry_manager, developer=developer, url=url)
    # One saved before this check existed (or a name that resolves there): refused on delivery.
    WebhookEndpoint.objects.create(
        developer=developer, url=url, secret_encrypted=encrypt(new_secret())
    )
    delivery = _webhook_delivery(make_notice())

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.FAILED
    delivery.refresh_from_db()
    assert "Refused webhook target" in delivery.last_error
    assert no_connect == []


def test_ipv4_mapped_loopback_is_refused_when_the_setting_is_off(
    receiver, endpoint, make_notice, settings, no_connect
):
    delivery = _webhook_delivery(make_notice())
    transport = WebhookTransport()
    prepared = transport.prepare(delivery)
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False

    for url in (
        f"https://[::ffff:127.0.0.1]:{receiver.port}/hooks/notices",
        f"https://127.0.0.1:{receiver.port}/hooks/notices",
        f"https://localhost:{receiver.port}/hooks/notices",
    ):
        with pytest.raises(TransportError) as caught:
            transport.deliver(prepared, url)
        assert caught.value.permanent
        assert "Refused webhook target" in caught.value.message

    assert no_connect == [] and receiver.requests == []


def test_plain_http_is_refused_when_the_setting_is_off(receiver, endpoint, make_notice, settings):
    delivery = _webhook_delivery(make_notice())
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False

    assert deliveries.attempt(delivery_id=delivery.pk) == Status.FAILED
    delivery.refresh_from_db()
    assert "https" in delivery.last_error and receiver.requests == []


def test_address_checks(settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    for address in ["127.0.0.1", "::1", "::ffff:127.0.0.1", "10.1.2.3", "172.16.0.1", "0.0.0.0"]:
        assert address_refusal(address), address
    for address in ["fc00::1", "100.64.0.1", "ff02::1", "::ffff:192.168.0.1"]:
        assert address_refusal(address), address
    assert address_refusal("93.184.215.14") is None
    assert address_refusal("2606:4700::1111") is None
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    assert address_refusal("127.0.0.1") is None and address_refusal("::ffff:127.0.0.1") is None
    assert address_refusal("10.1.2.3")


def test_https_is_required_unless_loopback_is_allowed(developer, registry_manager, settings):
    from django.core.exceptions import ValidationError

    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError):
        webhook_endpoint_set(
            actor=registry_manager, developer=developer, url="http://hooks.example/x"
        )
    endpoint, secret = webhook_endpoint_set(
        actor=registry_manager, developer=developer, url="https://hooks.example/x"
    )
    assert endpoint.url == "https://hooks.example/x" and secret


def test_without_a_key_and_debug_off_encryption_is_misconfigured(settings):
    from django.core.exceptions import ImproperlyConfigured

    from notices.crypto import decrypt, encrypt

    settings.DEBUG = False
    settings.NOTICES_WEBHOOK_KEY = ""
    with pytest.raises(ImproperlyConfigured):
        encrypt("whsec_x")
    from cryptography.fernet import Fernet

    settings.NOTICES_WEBHOOK_KEY = Fernet.generate_key().decode()
    assert decrypt(encrypt("whsec_x")) == "whsec_x"


def test_in_debug_without_a_key_one_is_derived_from_the_secret_key(settings):
    from notices.crypto import decrypt, encrypt

    settings.DEBUG = True
    settings.NOTICES_WEBHOOK_KEY = ""
    token = encrypt("whsec_x")
    assert decrypt(token) == "whsec_x"
    settings.SECRET_KEY = "another-secret-key"
    from cryptography.fernet import InvalidToken

    with pytest.raises(InvalidToken):
        decrypt(token)


def test_a_webhook_host_that_cannot_be_reached_holds_back_no_email_of_the_batch(
    developer, make_notice, registry_manager, mailoutbox
):
    """ "Unreachable" stops the rest of a batch only for the same server: a developer's dead
    endpoint must not delay the emails of the same batch."""
    webhook_endpoint_set(
        actor=registry_manager, developer=developer, url="https://no-such-host.invalid/hooks"
    )
    first, second = make_notice(), make_notice()
    # Sent in id order: the first notice's webhook fails before the second notice's email.
    ids = list(Delivery.objects.filter(notice__in=[first, second]).values_list("pk", flat=True))

    deliveries.attempt_many(delivery_ids=ids)

    emails = Delivery.objects.filter(pk__in=ids, channel=Delivery.Channel.EMAIL)
    assert set(emails.values_list("status", flat=True)) == {Status.DELIVERED}
    assert len(mailoutbox) == 2
    hooks = Delivery.objects.filter(pk__in=ids, channel=Delivery.Channel.WEBHOOK)
    assert set(hooks.values_list("status", flat=True)) == {Status.QUEUED}
    assert "Cannot resolve no-such-host.invalid" in hooks.order_by("pk").first().last_error
