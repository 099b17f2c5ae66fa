"""The emails they receive about their requests: names, titles and statements that look like HTML
come out as text in the HTML part — its <title> included."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.template.loader import render_to_string
from django.utils import timezone

from accounts.acting import Capacity
from notices.models import AIDeveloper, Notice, NoticeAnswer
from notices.services import answer_record
from removals import services
from tests import factories

EMAIL_DIR = Path(django_settings.BASE_DIR) / "templates" / "removals" / "email"
# What each update says (rendered when it happens) and the email that carries one or several.
HTML_TEMPLATES = sorted(p.name for p in EMAIL_DIR.glob("*_event.html")) + ["updates_message.html"]
HOSTILE = "<b>x</b>"
SCRIPT = "<script>alert(1)</script>"


def _html_part(message) -> str:
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def test_every_html_email_template_is_found():
    assert "answered_event.html" in HTML_TEMPLATES and len(HTML_TEMPLATES) >= 8


@pytest.mark.parametrize("name", HTML_TEMPLATES)
def test_no_html_email_turns_escaping_off(name):
    source = (EMAIL_DIR / name).read_text()
    assert "autoescape off" not in source
    assert "|safe" not in source.replace(" ", "")


@pytest.mark.parametrize("name", HTML_TEMPLATES)
def test_every_html_email_escapes_what_others_typed(name, db):
    developer = AIDeveloper(name=HOSTILE, slug="x")
    guild = factories.GuildFactory.build(name=SCRIPT)
    actor = factories.UserFactory.build(email="staff@example.org")
    request = type("Request", (), {"__str__": lambda self: SCRIPT})()
    answer = NoticeAnswer(kind=NoticeAnswer.Kind.DISPUTED, statement=SCRIPT)
    context = {
        "site_name": HOSTILE,
        "request": request,
        "request_url": "https://portal.example/requests/1/",
        "developer": developer,
        "developers": [developer],
        "answer": answer,
        "reason": SCRIPT,
        "question": SCRIPT,
        "guild": guild,
        "actor": actor,
        "due": timezone.now() + timedelta(days=30),
        "offer_deny": True,
        "by": Capacity(guild=guild),
        "works": [factories.WorkFactory.build(title=SCRIPT)],
        "works_url": "https://portal.example/works/",
        "title": SCRIPT,
        "updates": [
            {"subject": SCRIPT, "at": timezone.now(), "text": SCRIPT, "html": "<p>ok</p>"},
            {"subject": HOSTILE, "at": timezone.now(), "text": HOSTILE, "html": "<p>ok</p>"},
        ],
    }

    html = render_to_string(f"removals/email/{name}", context)

    assert "<script>" not in html and "<b>x</b>" not in html
    if "<title>" in html:
        title = html.split("<title>", 1)[1].split("</title>", 1)[0]
        assert "<" not in title and "&lt;script&gt;" in title


def test_a_developer_named_like_html_is_text_in_their_answered_email(
    make_request, guild_staff, developer, django_capture_on_commit_callbacks
):
    AIDeveloper.objects.filter(pk=developer.pk).update(name=HOSTILE)
    removal = make_request(developers=[developer])
    services.request_approve(actor=guild_staff, request=removal)
    notice = Notice.objects.get(topic=removal.topic, kind=Notice.Kind.NOTICE)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        answer_record(
            notice=notice,
            kind=NoticeAnswer.Kind.DISPUTED,
            statement=f"We never used them. {SCRIPT}",
            via=NoticeAnswer.Via.LINK,
        )

    message = next(m for m in mail.outbox if "answered" in m.subject)
    html = _html_part(message)
    assert "<title>&lt;b&gt;x&lt;/b&gt; answered your removal request</title>" in html
    assert "<b>x</b>" not in html and "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The plain-text part stays plain: the name as typed.
    assert "<b>x</b> answered" in message.body
