"""Webhook endpoints of AI developers: set by the organisation's people or registry managers,
secrets rotated with an overlap (both secrets sign meanwhile), every change audited."""

import base64
import ipaddress
import secrets
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record

from ..access import can_manage_developer
from ..crypto import encrypt
from ..models import AIDeveloper, Delivery, WebhookEndpoint
from ..webhooks import address_refusal

SECRET_BYTES = 32  # the specification asks for at least 24


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _check_actor(actor: User | None, developer: AIDeveloper) -> None:
    if not can_manage_developer(actor, developer):
        raise PermissionDenied(
            "Only the organisation's people and registry managers manage its webhook."
        )


def webhook_url_validate(url: str) -> str:
    url = (url or "").strip()
    URLValidator(schemes=["http", "https"])(url)
    parts = urlsplit(url)
    if parts.scheme != "https" and not (
        settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK and _is_loopback(parts.hostname or "")
    ):
        raise ValidationError("A webhook URL must use https.")
    if parts.username or parts.password:
        raise ValidationError("A webhook URL must not carry credentials.")
    refusal = _host_refusal(parts.hostname or "")
    if refusal:
        raise ValidationError(f"Webhooks cannot go there: {refusal}.")
    return url


def _is_loopback(host: str) -> bool:
    """Plain http is allowed (with ``NOTICES_WEBHOOK_ALLOW_LOOPBACK``, tests and the demo) only
    to this machine."""
    host = host.rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _host_refusal(host: str) -> str | None:
    """Why a host is refused before anything is saved: an address that is not public, written
    as such (``https://10.0.0.1/``, ``https://localhost/``). Names are checked again on every
    delivery, on the address actually connected to (``notices.webhooks``)."""
    host = host.rstrip(".").lower()
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        loopback_name = host == "localhost" or host.endswith(".localhost")
        if loopback_name and not settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK:
            return f"{host} is not a public address"
        return None
    return address_refusal(host)


def webhook_endpoint_set(
    *, actor: User, developer: AIDeveloper, url: str
) -> tuple[WebhookEndpoint, str | None]:
    """Point ``developer``'s webhook at ``url``. A developer has one active endpoint: an
    existing one keeps its secret (and is re-activated); a new one gets a fresh secret,
    returned in clear (shown once to the organisation), else None."""
    _check_actor(actor, developer)
    url = webhook_url_validate(url)
    with transaction.atomic():
        # The developer's row first: two first-time settings at once must not make two
        # endpoints (there is no endpoint row to lock yet).
        AIDeveloper.objects.select_for_update().filter(pk=developer.pk).first()
        endpoint = (
            WebhookEndpoint.objects.select_for_update()
            .filter(developer=developer)
            .order_by("-is_active", "-created_at")
            .first()
        )
        clear = None
        before = None
        if endpoint is None:
            clear = new_secret()
            endpoint = WebhookEndpoint.objects.create(
                developer=developer, url=url, secret_encrypted=encrypt(clear)
            )
        else:
            before = {"url": endpoint.url, "is_active": endpoint.is_active}
            if endpoint.url != url:
                _redirect_pending(developer, endpoint.url, url)
            endpoint.url = url
            endpoint.is_active = True
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
            endpoint.save(update_fields=["url", "is_active", "disabled_at", "disabled_reason"])
        audit_record(
            actor=actor,
            action="webhook.set",
            obj=endpoint,
            before=before,
            after={"url": endpoint.url, "is_active": True, "developer": developer.slug},
        )
    return endpoint, clear


def _redirect_pending(developer: AIDeveloper, old_url: str, new_url: str) -> int:
    """Deliveries still on their way to the old URL go to the new one: a URL change must not
    lose a notice (a delivery's recipient is the URL it is sent to)."""
    pending = Delivery.objects.filter(
        notice__developer=developer,
        channel=Delivery.Channel.WEBHOOK,
        recipient=old_url,
        status__in=Delivery.PENDING,
    )
    already = Delivery.objects.filter(
        channel=Delivery.Channel.WEBHOOK, recipient=new_url, notice_id=OuterRef("notice_id")
    )
    return pending.exclude(Exists(already)).update(recipient=new_url)


def webhook_secret_rotate(*, actor: User, endpoint: WebhookEndpoint, overlap_seconds: int) -> str:
    """Give ``endpoint`` a new secret and return it in clear (shown once). The old one keeps
    signing too for ``overlap_seconds`` (two ``v1,`` signatures), so the organisation can
    switch without losing a notice."""
    _check_actor(actor, endpoint.developer)
    if overlap_seconds < 0:
        raise ValidationError("The overlap cannot be negative.")
    clear = new_secret()
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted if overlap_seconds else ""
        endpoint.previous_secret_until = (
            timezone.now() + timedelta(seconds=overlap_seconds) if overlap_seconds else None
        )
        endpoint.secret_encrypted = encrypt(clear)
        endpoint.save(
            update_fields=["secret_encrypted", "previous_secret_encrypted", "previous_secret_until"]
        )
        audit_record(
            actor=actor,
            action="webhook.secret_rotate",
            obj=endpoint,
            after={"overlap_seconds": overlap_seconds, "url": endpoint.url},
        )
    return clear
