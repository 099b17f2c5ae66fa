"""Two-factor sign-in with a time-based code, recovery codes, and allauth's rate limits on the
shared cache — exercised through the real pages."""

import base64
import hashlib
import hmac
import re
import struct
import time
from http import HTTPStatus

from allauth.mfa.models import Authenticator
from django.urls import reverse

from tests import factories


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 30 s, 6 digits), written here independently of allauth."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = int((at if at is not None else time.time()) // 30)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def activate_totp(client) -> str:
    page = client.get(reverse("mfa_activate_totp")).content.decode()
    secret = re.search(r'id="authenticator_secret"[^>]*value="([A-Z2-7]+)"', page) or re.search(
        r'value="([A-Z2-7]{32})"', page
    )
    assert secret, "the activation page shows the secret to type into an app"
    secret = secret.group(1)
    response = client.post(reverse("mfa_activate_totp"), {"code": totp(secret)})
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:3000]
    return secret


def test_creator_turns_on_two_factor_and_then_needs_a_code_to_sign_in(client, creator, sign_in):
    sign_in(creator)  # activating two-factor is sensitive: allauth asks for the password again
    secret = activate_totp(client)
    assert Authenticator.objects.filter(user=creator, type=Authenticator.Type.TOTP).exists()
    client.post(reverse("account_logout"))

    response = client.post(
        reverse("account_login"), {"login": creator.email, "password": factories.PASSWORD}
    )
    assert response["Location"] == reverse("mfa_authenticate")
    # The password alone does not sign them in.
    assert client.get(reverse("portal:dashboard")).status_code == HTTPStatus.FOUND

    wrong = client.post(reverse("mfa_authenticate"), {"code": "000000"})
    assert wrong.status_code == HTTPStatus.OK
    assert "Incorrect code" in wrong.content.decode()

    response = client.post(reverse("mfa_authenticate"), {"code": totp(secret)})
    assert response.status_code == HTTPStatus.FOUND
    assert client.get(reverse("portal:dashboard")).status_code == HTTPStatus.OK


def test_a_recovery_code_signs_in_once(client, creator, sign_in):
    sign_in(creator)
    activate_totp(client)
    page = client.get(reverse("mfa_view_recovery_codes")).content.decode()
    textarea = re.search(r'<textarea id="recovery_codes"[^>]*>(.*?)</textarea>', page, re.S)
    codes = textarea.group(1).split() if textarea else []
    assert codes, "recovery codes are shown to the creator"
    code = codes[0]
    client.post(reverse("account_logout"))

    for attempt in range(2):
        client.post(
            reverse("account_login"), {"login": creator.email, "password": factories.PASSWORD}
        )
        response = client.post(reverse("mfa_authenticate"), {"code": code})
        if attempt == 0:
            assert response.status_code == HTTPStatus.FOUND
            client.post(reverse("account_logout"))
        else:
            assert response.status_code == HTTPStatus.OK  # a used code is refused


def test_repeated_wrong_passwords_are_rate_limited(client, creator):
    url = reverse("account_login")
    for _ in range(5):
        response = client.post(url, {"login": creator.email, "password": "not it"})
        assert response.status_code == HTTPStatus.OK
    # Now even the right password is refused for a while: the counter lives in the cache that
    # every web process shares.
    response = client.post(url, {"login": creator.email, "password": factories.PASSWORD})
    assert response.status_code in (HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS)
    assert "Too many failed login attempts" in response.content.decode()
    assert client.get(reverse("portal:dashboard")).status_code == HTTPStatus.FOUND
