"""Checks. A deployment check: with DEBUG off, webhook secrets need ``NOTICES_WEBHOOK_KEY`` (a
Fernet key). Without it, setting a webhook — and every webhook delivery — would fail at the first
use; ``manage.py check --deploy`` says so before that. And the API's rate limits must be written
so they can be read (else every API call would fail), which every ``manage.py`` command checks."""

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


@register()
def api_rate_limits_check(app_configs=None, **kwargs):
    from accounts.ratelimits import rate_parse

    errors = []
    for name in (
        "API_RATE_LIMIT_PER_IP",
        "API_RATE_LIMIT_PER_KEY",
        "API_RATE_LIMIT_ANONYMOUS_WORK",
    ):
        try:
            rate_parse(getattr(settings, name))
        except ImproperlyConfigured as exc:
            errors.append(Error(f"{name}: {exc}", id="notices.E002"))
    return errors
