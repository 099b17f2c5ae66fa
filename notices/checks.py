"""A deployment check: with DEBUG off, webhook secrets need ``NOTICES_WEBHOOK_KEY`` (a Fernet
key). Without it, setting a webhook — and every webhook delivery — would fail at the first use;
``manage.py check --deploy`` says so before that."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def webhook_key_check(app_configs=None, **kwargs):
    if settings.DEBUG:
        return []
    from .crypto import _fernet as fernet

    try:
        fernet()
    except ImproperlyConfigured as exc:
        return [
            Error(
                str(exc),
                hint="Generate one with: python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'",
                id="notices.E001",
            )
        ]
    return []
