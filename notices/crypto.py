"""Encryption of webhook secrets at rest (Fernet, from ``cryptography``).

The key is ``NOTICES_WEBHOOK_KEY`` (a Fernet key: 32 url-safe base64 bytes, from
``Fernet.generate_key()``). With DEBUG on and no key set, one is derived from ``SECRET_KEY``
with HKDF/SHA-256, so development and tests need no configuration; with DEBUG off a missing
key raises ``ImproperlyConfigured`` when a secret is encrypted or decrypted.
"""

import base64

from cryptography.fernet import Fernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _fernet() -> Fernet:
    key = getattr(settings, "NOTICES_WEBHOOK_KEY", "")
    if not key:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "NOTICES_WEBHOOK_KEY must be set when DEBUG is off (see .env.example)."
            )
        derived = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=None, info=b"notices.webhook-secrets"
        ).derive(settings.SECRET_KEY.encode())
        key = base64.urlsafe_b64encode(derived)
    try:
        return Fernet(key)
    except ValueError as exc:
        raise ImproperlyConfigured(f"NOTICES_WEBHOOK_KEY is not a Fernet key: {exc}") from exc


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
