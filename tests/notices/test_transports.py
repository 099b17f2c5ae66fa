"""The email channel against a real SMTP server (aiosmtpd on loopback): what the developer
receives, and how refusals are told apart."""

import json
import smtplib

import pytest
from aiosmtpd.controller import Controller

from notices.models import message_id_for
from notices.transports import EmailTransport, TransportError, classify
from tests.services import free_port


@pytest.fixture
def delivery(make_notice):
    notice = make_notice(
        subject="Removal request: 2 works",
        text="Please remove these works.\nThank you.",
        html="<p>Please remove <strong>these works</strong>.</p>",
        reply_to="notices@wggb.example",
        attachments=[("works.json", json.dumps({"works": [1, 2]}), "application/json")],
    )
    return notice.deliveries.get()


def test_the_email_carries_letterhead_both_parts_attachment_identity_and_reply_to(
    smtp, delivery, settings
):
    EmailTransport().send(delivery)

    [message] = smtp.messages
    assert message["Message-ID"] == delivery.identity
    assert message["To"] == "legal@example-ai.example"
    assert message["Reply-To"] == "notices@wggb.example"
    assert message["From"] == settings.NOTICES_FROM_EMAIL
    assert message["Subject"] == "Removal request: 2 works"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Please remove these works." in text and settings.SITE_NAME in text
    assert "<strong>these works</strong>" in html and settings.SITE_NAME in html
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "works.json"
    assert json.loads(attachment.get_content()) == {"works": [1, 2]}


def test_without_a_guild_reply_to_is_the_portals_address(smtp, make_notice, settings):
    settings.NOTICES_REPLY_TO = "answers@portal.example"
    delivery = make_notice().deliveries.get()

    EmailTransport().send(delivery)

    assert smtp.messages[0]["Reply-To"] == "answers@portal.example"


def test_a_text_only_payload_is_escaped_in_the_html_part(smtp, make_notice):
    delivery = make_notice(text="Works: <script>alert(1)</script> & more").deliveries.get()

    EmailTransport().send(delivery)

    html = smtp.messages[0].get_body(("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in html


def test_the_identity_derives_from_the_key_and_the_recipient(settings):
    settings.NOTICES_MESSAGE_ID_DOMAIN = "portal.example"
    one = message_id_for("removal:42:developer:7", "legal@dev.example")

    assert one == message_id_for("removal:42:developer:7", "Legal@Dev.example ")
    assert one.startswith("<") and one.endswith("@portal.example>")
    assert one != message_id_for("removal:42:developer:8", "legal@dev.example")
    assert one != message_id_for("removal:42:developer:7", "dpo@dev.example")


def test_451_is_a_temporary_refusal(smtp, delivery):
    smtp.handler.refuse[delivery.recipient] = "451 4.7.1 Try again later"

    with pytest.raises(TransportError) as caught:
        EmailTransport().send(delivery)

    assert (caught.value.permanent, caught.value.suppress, caught.value.code) == (False, False, 451)
    assert "Try again later" in caught.value.message


def test_550_is_a_permanent_refusal_of_the_address(smtp, delivery):
    smtp.handler.refuse[delivery.recipient] = "550 5.1.1 No such user"

    with pytest.raises(TransportError) as caught:
        EmailTransport().send(delivery)

    assert (caught.value.permanent, caught.value.suppress, caught.value.code) == (True, True, 550)


def test_554_at_data_fails_the_message_but_does_not_blame_the_address(smtp, delivery):
    async def refuse_data(server, session, envelope):
        return "554 5.7.1 Message refused as spam"

    smtp.handler.handle_DATA = refuse_data

    with pytest.raises(TransportError) as caught:
        EmailTransport().send(delivery)

    assert (caught.value.permanent, caught.value.suppress, caught.value.code) == (True, False, 554)


def test_a_server_that_is_not_there_is_a_temporary_failure(smtp, delivery, settings):
    settings.EMAIL_PORT = free_port()

    with pytest.raises(TransportError) as caught:
        EmailTransport().send(delivery)

    assert caught.value.permanent is False


def test_one_connection_serves_many_sends_and_is_reopened_when_the_server_drops_it(
    smtp, make_notice
):
    peers = []
    original = smtp.handler.handle_DATA

    async def recording(server, session, envelope):
        peers.append(session.peer)
        return await original(server, session, envelope)

    smtp.handler.handle_DATA = recording
    first, second, third = (make_notice().deliveries.get() for _ in range(3))
    transport = EmailTransport()

    transport.send(first)
    transport.send(second)
    assert len(peers) == 2 and peers[0] == peers[1]  # one connection, two messages

    # The server goes away and comes back (a restart, an idle timeout): the kept connection is
    # dead, and the next send opens a new one instead of failing.
    smtp.controller.stop()
    smtp.controller = Controller(smtp.handler, hostname="127.0.0.1", port=smtp.port)
    smtp.controller.start()
    transport.send(third)

    assert [m["Message-ID"] for m in smtp.messages] == [
        first.identity,
        second.identity,
        third.identity,
    ]


@pytest.mark.parametrize(
    ("exc", "permanent", "suppress", "code"),
    [
        (smtplib.SMTPRecipientsRefused({"a@x.example": (452, b"mailbox full")}), False, False, 452),
        (smtplib.SMTPRecipientsRefused({"A@X.example": (553, b"bad address")}), True, True, 553),
        (smtplib.SMTPSenderRefused(550, b"sender rejected", "us@portal"), True, False, 550),
        (smtplib.SMTPSenderRefused(421, b"busy", "us@portal"), False, False, 421),
        (smtplib.SMTPDataError(451, b"local error"), False, False, 451),
        (smtplib.SMTPAuthenticationError(535, b"bad credentials"), False, False, 535),
        (smtplib.SMTPServerDisconnected("gone"), False, False, None),
        (ConnectionRefusedError(111, "refused"), False, False, None),
        (TimeoutError("timed out"), False, False, None),
    ],
)
def test_refusals_are_classified_by_their_code(exc, permanent, suppress, code):
    error = classify(exc, "a@x.example")

    assert (error.permanent, error.suppress, error.code) == (permanent, suppress, code)


def test_an_unexpected_error_is_not_mistaken_for_a_refusal():
    with pytest.raises(KeyError):
        classify(KeyError("bug"), "a@x.example")
