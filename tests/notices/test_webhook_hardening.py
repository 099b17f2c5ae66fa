"""The webhook channel against hostile or broken receivers and resolvers: ``Retry-After``
values that are huge, negative, garbage or zoneless; a receiver trickling its answer a byte at a
time or answering without end; plain http to anything but this machine; IPv6 addresses that
lead to private IPv4 ones; names with several addresses; names that resolve to private
addresses, or to another address on the second look-up (DNS rebinding).

Name resolution is replaced in these tests (``socket.getaddrinfo``, for names under ``.test``
and ``.localhost`` only) so that a name can point anywhere; real traffic only ever goes to the
loopback receiver — other connections are recorded and refused before they leave."""

import datetime as dt
import ipaddress
import socket
import ssl
import time
from datetime import UTC, timedelta
from email.utils import format_datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.utils import timezone

from notices import deliveries
from notices.crypto import encrypt
from notices.models import Delivery, WebhookEndpoint
from notices.services.webhooks import new_secret
from notices.transports import TransportError
from notices.webhooks import WebhookTransport, address_refusal, classify_status
from tests.notices.test_webhooks import Receiver, Reply
from tests.services import free_port, wait_for

Status = Delivery.Status
LIMIT = 3 * 24 * 3600.0
PUBLIC = "93.184.215.14"


@pytest.fixture
def receiver(settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    settings.NOTICES_RETRY_LIMIT = LIMIT
    server = Receiver(strict=True)
    yield server
    server.close()
    assert server.unverified == [], "the receiver got requests that do not verify"


@pytest.fixture
def endpoint_at(developer, receiver):
    """Saves ``developer``'s endpoint as a row (as one saved before today's checks, or a name
    that resolved elsewhere when it was saved) and gives its secret to the receiver."""

    def _make(url):
        secret = new_secret()
        endpoint = WebhookEndpoint.objects.create(
            developer=developer, url=url, secret_encrypted=encrypt(secret)
        )
        receiver.secret = endpoint.clear_secret = secret
        return endpoint

    return _make


@pytest.fixture
def resolver(monkeypatch):
    """``resolver.answers[name]``: a list of answers, one per look-up (the last one repeats),
    each a list of addresses ("10.0.0.5", or (address, port) to send the port elsewhere).
    Names not in it resolve as usual; ``resolver.lookups`` records the names looked up."""
    real = socket.getaddrinfo

    class Resolver:
        answers: dict = {}
        lookups: list = []

    def fake(host, port, *args, **kwargs):
        if host not in Resolver.answers:
            return real(host, port, *args, **kwargs)
        Resolver.lookups.append(host)
        queue = Resolver.answers[host]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        infos = []
        for address in answer:
            address, to_port = address if isinstance(address, tuple) else (address, port)
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, to_port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, to_port)))
        return infos

    Resolver.answers, Resolver.lookups = {}, []
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return Resolver


@pytest.fixture
def connects(monkeypatch):
    """Records every outgoing connection and refuses it before it leaves the machine."""
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise ConnectionRefusedError(f"refused by the test: {address}")

    def refuse_create(address, *args, **kwargs):
        attempts.append(address)
        raise ConnectionRefusedError(f"refused by the test: {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse_create)
    return attempts


def _webhook_delivery(notice) -> Delivery:
    return notice.deliveries.get(channel=Delivery.Channel.WEBHOOK)


def _attempt(make_notice) -> tuple[str, Delivery, float]:
    delivery = _webhook_delivery(make_notice())
    started = time.monotonic()
    status = deliveries.attempt(delivery_id=delivery.pk)
    elapsed = time.monotonic() - started
    delivery.refresh_from_db()
    return status, delivery, elapsed


# --- 1. Retry-After ------------------------------------------------------------------------------


def _retry_after(value):
    with pytest.raises(TransportError) as caught:
        classify_status(429, "Too Many Requests", value)
    return caught.value.retry_after


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 30 ", 30.0),
        ("0", 0.0),
        ("99999999999999", LIMIT),  # would overflow a timedelta
        ("9" * 5000, LIMIT),
        ("-5", None),
        ("soon", None),
        ("1.5", None),
        ("1e9", None),
        ("١٢٠", None),  # digits, but not ASCII ones
        ("", None),
        (None, None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),  # in the past: no wait
        ("Fri, 31 Dec 9999 23:59:59 GMT", LIMIT),
        ("Wed, 21 Oct 99999 07:28:00 GMT", None),
        ("Wed, 32 Oct 2015 07:28:00 GMT", None),
    ],
)
def test_retry_after_is_capped_at_the_retry_limit_and_garbage_is_ignored(value, expected, settings):
    settings.NOTICES_RETRY_LIMIT = LIMIT
    assert _retry_after(value) == expected


@pytest.mark.parametrize("zone", ["GMT", "+0000", "-0000", ""])
def test_an_http_date_without_a_usable_zone_counts_as_utc(zone, settings):
    settings.NOTICES_RETRY_LIMIT = LIMIT
    when = (timezone.now() + timedelta(seconds=600)).astimezone(UTC).replace(tzinfo=None)
    value = format_datetime(when).replace("-0000", zone).strip()  # "…07:28:00 -0000"

    assert 590 <= _retry_after(value) <= 600


def test_a_zoneless_retry_after_date_from_a_receiver_schedules_the_retry(
    receiver, endpoint_at, make_notice, settings
):
    settings.NOTICES_RETRY_BASE = 1.0
    endpoint_at(receiver.url())
    when = (timezone.now() + timedelta(seconds=300)).astimezone(UTC).replace(tzinfo=None)
    receiver.responses.append(Reply(503, {"Retry-After": format_datetime(when)}))
    before = timezone.now()

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.QUEUED
    assert delivery.next_attempt_at >= before + timedelta(seconds=290)
    assert "HTTP 503" in delivery.last_error


def test_a_huge_retry_after_does_not_break_the_delivery(receiver, endpoint_at, make_notice):
    endpoint_at(receiver.url())
    receiver.responses.append(Reply(429, {"Retry-After": "99999999999999"}))

    status, delivery, _ = _attempt(make_notice)

    # The receiver asks for a wait past the retry window: the delivery fails, recorded.
    assert status == Status.FAILED
    assert "HTTP 429" in delivery.last_error
    assert len(receiver.requests) == 1


# --- 2. One deadline for the whole request, and a bounded read ---------------------------------


def test_a_receiver_trickling_its_answer_times_out_in_the_configured_time(
    receiver, endpoint_at, make_notice, settings
):
    settings.NOTICES_WEBHOOK_TIMEOUT = 0.6
    endpoint_at(receiver.url())
    # A byte every 50 ms: each read is quick, the whole answer would take ~15 s.
    receiver.responses.append(Reply(200, {"X-Padding": "x" * 250}, trickle=0.05))

    status, delivery, elapsed = _attempt(make_notice)

    assert status == Status.QUEUED
    assert "Timed out" in delivery.last_error
    assert elapsed < 0.6 + 0.9
    assert len(receiver.requests) == 1


def test_an_error_body_that_never_ends_is_cut_off_at_the_deadline(
    receiver, endpoint_at, make_notice, settings
):
    settings.NOTICES_WEBHOOK_TIMEOUT = 0.6
    endpoint_at(receiver.url())
    # Promises a megabyte, sends a sentence, then holds the connection open.
    receiver.responses.append(
        Reply(500, body=b"Upstream\n exploded.", content_length=2**20, hold=5)
    )

    status, delivery, elapsed = _attempt(make_notice)

    assert status == Status.QUEUED
    said = 'the receiver said: "Upstream exploded."'
    assert delivery.last_error == f"HTTP 500 Internal Server Error — {said}"
    assert elapsed < 0.6 + 0.9


def test_a_huge_error_body_is_read_only_in_part(receiver, endpoint_at, make_notice):
    endpoint_at(receiver.url())
    size = 32 * 2**20
    receiver.responses.append(Reply(400, body=b"E" * size))

    status, delivery, elapsed = _attempt(make_notice)

    assert status == Status.FAILED
    assert delivery.last_error.startswith('HTTP 400 Bad Request — the receiver said: "EEE')
    assert len(delivery.last_error) < 300
    wait_for(lambda: receiver.finished == 1, timeout=10, what="the receiver to give up")
    # The portal closed the connection after its share (kernel buffers hold a few MiB more).
    assert receiver.sent < size


def test_a_response_head_larger_than_64_kib_is_refused(receiver, endpoint_at, make_notice):
    endpoint_at(receiver.url())
    headers = {f"X-Padding-{n}": "y" * 1000 for n in range(80)}
    receiver.responses.append(Reply(200, headers))

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.QUEUED
    assert "response head is larger than 65536 bytes" in delivery.last_error


def test_the_error_message_quotes_the_start_of_the_body(receiver, endpoint_at, make_notice):
    endpoint_at(receiver.url())
    receiver.responses.append(Reply(404, body=b"No hook at\r\n\tthis path."))

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.FAILED
    assert delivery.last_error == 'HTTP 404 Not Found — the receiver said: "No hook at this path."'


def test_a_request_the_receiver_cannot_verify_is_answered_400(receiver, endpoint_at, make_notice):
    """The receiver's check is real: a signature made with another secret fails it."""
    endpoint_at(receiver.url())
    delivery = _webhook_delivery(make_notice())
    transport = WebhookTransport()
    prepared = transport.prepare(delivery)
    prepared.headers["webhook-signature"] = "v1," + "A" * 44

    with pytest.raises(TransportError) as caught:
        transport.deliver(prepared, receiver.url())

    assert caught.value.permanent
    assert caught.value.message == 'HTTP 400 Bad Request — the receiver said: "bad signature"'
    assert len(receiver.unverified) == 1
    receiver.unverified.clear()


# --- 3. Plain http only to this machine ---------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "answer"),
    [
        ("hooks.example.test", [PUBLIC]),
        ("hooks.example.test", ["127.0.0.1", PUBLIC]),  # partly this machine is not enough
        (PUBLIC, None),
        ("[2606:4700::1111]", None),
    ],
)
def test_plain_http_is_refused_to_anything_but_loopback(
    host, answer, developer, make_notice, resolver, connects, settings
):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    if answer:
        resolver.answers[host] = [answer]
    WebhookEndpoint.objects.create(
        developer=developer, url=f"http://{host}/hooks", secret_encrypted=encrypt(new_secret())
    )

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.FAILED
    assert "must use https" in delivery.last_error
    assert connects == []


def test_plain_http_to_a_name_for_this_machine_is_delivered(
    receiver, endpoint_at, make_notice, resolver
):
    resolver.answers["hooks.localhost"] = [["::1", "127.0.0.1"]]  # the receiver is on IPv4
    endpoint_at(f"http://hooks.localhost:{receiver.port}/hooks/notices")

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.DELIVERED
    [request] = receiver.requests
    assert request["headers"]["Host"] == f"hooks.localhost:{receiver.port}"


# --- 4. Addresses that lead somewhere private ---------------------------------------------------

REFUSED = [
    "64:ff9b::a00:1",  # NAT64 → 10.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 → 169.254.169.254 (cloud metadata)
    "64:ff9b::7f00:1",  # NAT64 → 127.0.0.1
    "64:ff9b::e000:1",  # NAT64 → 224.0.0.1
    "64:ff9b:1::808:808",  # local-use NAT64
    "2002:a00:1::1",  # 6to4 → 10.0.0.1
    "2002:a9fe:a9fe::",  # 6to4 → 169.254.169.254
    "2002:7f00:1::1",  # 6to4 → 127.0.0.1
    "::a00:1",  # IPv4-compatible → 10.0.0.1
    "::7f00:1",  # IPv4-compatible → 127.0.0.1
    "::808:808",  # IPv4-compatible: deprecated, refused whatever it embeds
    "::ffff:0:a00:1",  # IPv4-translated → 10.0.0.1
    "fec0::1",  # site-local
    "feff::1",  # site-local
    "2001::1",  # Teredo
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo, client 192.0.2.45
    "3fff::1",  # documentation
    "5f00::1",  # segment routing
    "fd00::5",
    "::",
    "0.0.0.0",
]
ALLOWED = [
    "64:ff9b::808:808",  # NAT64 → 8.8.8.8
    "2002:808:808::1",  # 6to4 → 8.8.8.8
    "2606:4700::1111",
    "2a00:1450:4001:830::200e",
    PUBLIC,
]


@pytest.mark.parametrize("allow_loopback", [False, True])
@pytest.mark.parametrize("address", REFUSED)
def test_addresses_leading_somewhere_private_are_refused(address, allow_loopback, settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = allow_loopback
    assert address_refusal(address) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address, settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    assert address_refusal(address) is None


def test_only_loopback_itself_is_let_through_by_the_setting(settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    for address in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"]:
        assert address_refusal(address) is None, address
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    for address in ["127.0.0.1", "::1", "::ffff:127.0.0.1"]:
        assert address_refusal(address), address


# --- 5. Several addresses -----------------------------------------------------------------------


def test_the_next_checked_address_is_tried_when_one_refuses(
    receiver, endpoint_at, make_notice, resolver
):
    closed = free_port()
    resolver.answers["hooks.localhost"] = [[("127.0.0.1", closed), ("127.0.0.1", receiver.port)]]
    endpoint_at(f"http://hooks.localhost:{receiver.port}/hooks/notices")

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.DELIVERED
    assert len(receiver.requests) == 1


def test_a_silent_address_does_not_use_up_the_time_of_the_next(
    receiver, endpoint_at, make_notice, resolver, settings
):
    settings.NOTICES_WEBHOOK_TIMEOUT = 2.0
    # A listener that never accepts, its backlog full: connecting to it hangs.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(0)
    filler = socket.create_connection(silent.getsockname())
    try:
        port = silent.getsockname()[1]
        resolver.answers["hooks.localhost"] = [[("127.0.0.1", port), ("127.0.0.1", receiver.port)]]
        endpoint_at(f"http://hooks.localhost:{receiver.port}/hooks/notices")

        status, delivery, elapsed = _attempt(make_notice)
    finally:
        filler.close()
        silent.close()

    assert status == Status.DELIVERED, delivery.last_error
    assert 0.9 < elapsed < 2.0  # the silent address got half the time, the receiver the rest
    assert len(receiver.requests) == 1


def test_a_name_with_any_private_address_is_refused_whole(
    developer, make_notice, resolver, connects, settings
):
    """Decision: one non-public address refuses the target, rather than skipping it."""
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    resolver.answers["hooks.example.test"] = [[PUBLIC, "10.0.0.5"]]
    WebhookEndpoint.objects.create(
        developer=developer,
        url="https://hooks.example.test/hooks",
        secret_encrypted=encrypt(new_secret()),
    )

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.FAILED
    assert "10.0.0.5 is not a public address" in delivery.last_error
    assert connects == []


# --- 6. Names that resolve to private addresses, and DNS rebinding ------------------------------


@pytest.mark.parametrize("address", ["10.0.0.5", "fd00::5", "64:ff9b::a00:5", "169.254.169.254"])
def test_a_name_resolving_to_a_private_address_is_refused_without_connecting(
    address, developer, make_notice, resolver, connects, settings
):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    resolver.answers["hooks.example.test"] = [[address]]
    # Saving does not resolve names (they may change): it is the delivery that must refuse.
    WebhookEndpoint.objects.create(
        developer=developer,
        url="https://hooks.example.test/hooks",
        secret_encrypted=encrypt(new_secret()),
    )

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.FAILED
    assert delivery.last_error.startswith(
        f"Refused webhook target hooks.example.test: {address} is not a public address"
    )
    assert connects == []
    assert resolver.lookups == ["hooks.example.test"]


@pytest.mark.parametrize(
    ("public", "sockaddr"),
    [(PUBLIC, (PUBLIC, 443)), ("2606:4700::1111", ("2606:4700::1111", 443, 0, 0))],
)
def test_dns_rebinding_cannot_redirect_the_connection(
    public, sockaddr, developer, make_notice, resolver, connects, settings
):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    # Public on the check, this machine on any later look-up.
    resolver.answers["hooks.example.test"] = [[public], ["127.0.0.1"]]
    WebhookEndpoint.objects.create(
        developer=developer,
        url="https://hooks.example.test/hooks",
        secret_encrypted=encrypt(new_secret()),
    )

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.QUEUED  # the (recorded, refused) connection failed: retry later
    assert connects == [sockaddr]  # exactly the checked address, nothing else
    assert resolver.lookups == ["hooks.example.test"]  # looked up once, never again


# --- The same deadline over https ---------------------------------------------------------------


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for localhost and 127.0.0.1: (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_receiver(settings, certificate):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(*certificate)
    server = Receiver(tls=context, strict=True)
    yield server
    server.close()
    assert server.unverified == [], "the receiver got requests that do not verify"


@pytest.fixture
def trusted(monkeypatch, certificate):
    """The portal trusts the test certificate (and nothing else)."""
    real = ssl.create_default_context
    monkeypatch.setattr(ssl, "create_default_context", lambda: real(cafile=str(certificate[0])))


@pytest.fixture
def tls_endpoint_at(developer, tls_receiver):
    def _make(url):
        secret = new_secret()
        WebhookEndpoint.objects.create(
            developer=developer, url=url, secret_encrypted=encrypt(secret)
        )
        tls_receiver.secret = secret

    return _make


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_https_is_delivered_and_verified_against_the_host_name(
    host, tls_receiver, tls_endpoint_at, trusted, make_notice
):
    tls_endpoint_at(tls_receiver.url(host=host))

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.DELIVERED, delivery.last_error
    assert len(tls_receiver.requests) == 1


def test_https_with_a_certificate_the_portal_does_not_trust_is_retried(
    tls_receiver, tls_endpoint_at, make_notice
):
    tls_endpoint_at(tls_receiver.url(host="localhost"))

    status, delivery, _ = _attempt(make_notice)

    assert status == Status.QUEUED
    assert "TLS error with localhost" in delivery.last_error
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.last_error
    assert tls_receiver.requests == []


def test_a_tls_receiver_trickling_its_answer_times_out_in_the_configured_time(
    tls_receiver, tls_endpoint_at, trusted, make_notice, settings
):
    settings.NOTICES_WEBHOOK_TIMEOUT = 0.6
    tls_endpoint_at(tls_receiver.url(host="localhost"))
    tls_receiver.responses.append(Reply(200, {"X-Padding": "x" * 250}, trickle=0.05))

    status, delivery, elapsed = _attempt(make_notice)

    assert status == Status.QUEUED
    assert "Timed out" in delivery.last_error
    assert elapsed < 0.6 + 0.9
    assert len(tls_receiver.requests) == 1


def test_a_tls_handshake_that_never_finishes_times_out(developer, make_notice, settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    settings.NOTICES_WEBHOOK_TIMEOUT = 0.6
    silent = socket.socket()  # the kernel completes the connection; nobody ever answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        WebhookEndpoint.objects.create(
            developer=developer,
            url=f"https://127.0.0.1:{silent.getsockname()[1]}/hooks",
            secret_encrypted=encrypt(new_secret()),
        )
        status, delivery, elapsed = _attempt(make_notice)
    finally:
        silent.close()

    assert status == Status.QUEUED
    assert "Timed out" in delivery.last_error
    assert elapsed < 0.6 + 0.9
