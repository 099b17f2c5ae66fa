import re
from http import HTTPStatus

from django.urls import reverse

from tests.services import ROOT


def test_pages_carry_a_content_security_policy_without_inline_script(client, db):
    response = client.get(reverse("portal:home"))
    policy = response["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";") if d.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy


def test_no_template_has_inline_script_or_style():
    """The CSP forbids them; this finds one before a browser does. Templates under an
    ``offline/`` folder are documents the portal hands out (the evidence pack's summary.html),
    never served as pages: they carry their own styles to stand alone."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "offline" in path.relative_to(ROOT).parts:
            continue
        text = path.read_text()
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text) or re.search(r"<style\b", text):
            offenders.append(f"{path.relative_to(ROOT)}: inline <script> or <style>")
        if re.search(r"\sstyle=\"", text) or re.search(r"\son[a-z]+=\"", text):
            offenders.append(f"{path.relative_to(ROOT)}: style= or on*= attribute")
    assert offenders == []


def test_htmx_is_served_from_our_own_static_files(client, db):
    page = client.get(reverse("portal:home")).content.decode()
    assert re.search(r'<script src="/static/js/htmx\.min\.js"', page)
    assert "https://" not in re.findall(r"<script[^>]*>", page)[0]


def test_the_page_declares_its_language(client, db):
    assert b'<html lang="en-GB">' in client.get(reverse("portal:home")).content


def test_404_is_in_the_portal_layout(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == HTTPStatus.NOT_FOUND
    page = response.content.decode()
    assert 'lang="en-GB"' in page and "Creator Consent Portal" in page
    assert reverse("portal:home") in page


def test_403_is_in_the_portal_layout(client, creator):
    client.force_login(creator)
    response = client.get(reverse("portal:admin-dashboard"))
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert 'lang="en-GB"' in response.content.decode()


def test_500_page_renders_without_a_request_context():
    from django.template.loader import render_to_string

    page = render_to_string("500.html")
    assert 'lang="en-GB"' in page


def test_allauth_pages_use_the_portal_layout(client, db):
    for name in ["account_login", "account_signup", "account_reset_password"]:
        page = client.get(reverse(name)).content.decode()
        assert 'class="skip-link"' in page, name
        assert "portal.css" in page, name
