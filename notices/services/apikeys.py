"""API keys of AI developer organisations: created and revoked by the organisation's people
(registry managers may revoke any), shown in clear once, stored as a SHA-256.

A key reads ``ccp_<prefix>_<secret>``: the prefix (public, unique) finds the row, the whole
key's hash is compared in constant time.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import User
from accounts.services import audit_record

from ..access import can_manage_developer
from ..models import AIDeveloper, APIKey

KEY_SCHEME = "ccp"
# last_used_at is written at most this often per key: an API call should not be a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)
MAX_ACTIVE_KEYS = 20


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def api_key_create(*, actor: User, developer: AIDeveloper, name: str) -> tuple[APIKey, str]:
    """A new key for ``developer``; returns the row and the key in clear (shown once)."""
    if not can_manage_developer(actor, developer):
        raise PermissionDenied("Only the organisation's people create its API keys.")
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": "Give the key a name, so you can tell it from the others."})
    with transaction.atomic():
        AIDeveloper.objects.select_for_update().filter(pk=developer.pk).first()
        if APIKey.objects.active().filter(developer=developer).count() >= MAX_ACTIVE_KEYS:
            raise ValidationError(
                f"An organisation has at most {MAX_ACTIVE_KEYS} active keys: revoke one first."
            )
        prefix = secrets.token_hex(4)
        clear = f"{KEY_SCHEME}_{prefix}_{secrets.token_urlsafe(32)}"
        key = APIKey(developer=developer, name=name, prefix=prefix, hashed=_hash(clear))
        key.created_by = actor
        key.full_clean(exclude=["developer", "created_by"])
        key.save(force_insert=True)
        audit_record(
            actor=actor,
            action="apikey.create",
            obj=key,
            after={"developer": developer.slug, "prefix": prefix, "name": name},
        )
    return key, clear


def api_key_revoke(*, actor: User, key: APIKey) -> APIKey:
    """Revoke ``key`` at once (idempotent)."""
    if not can_manage_developer(actor, key.developer):
        raise PermissionDenied("Only the organisation's people and registry managers revoke keys.")
    with transaction.atomic():
        key = APIKey.objects.select_for_update().select_related("developer").get(pk=key.pk)
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.revoked_by = actor
        key.save(update_fields=["revoked_at", "revoked_by"])
        audit_record(
            actor=actor,
            action="apikey.revoke",
            obj=key,
            before={"prefix": key.prefix, "state": "active"},
            after={"prefix": key.prefix, "state": "revoked"},
        )
    return key


# The key check is on every API call, so it is one small SQL query (the ORM's version cost four
# times as much): the row found by prefix, whether the key and its organisation are usable,
# whether last_used_at is recent, and what a loaded copy must match to be reused.
_KEY_SQL = """
SELECT k.id, k.hashed, k.revoked_at IS NULL AND d.is_active,
       k.last_used_at IS NOT NULL AND k.last_used_at >= %s,
       k.hashed, k.name, k.developer_id, d.updated_at
  FROM notices_apikey k
  JOIN notices_aideveloper d ON d.id = k.developer_id
 WHERE k.prefix = %s
"""
# Per process: key id → (what the row said, the key with its developer). A loaded copy is
# reused only while its hash, name, organisation and organisation's updated_at are what the
# query just read; revocation and deactivation are read on every call, so they take effect at
# once.
_loaded: dict[int, tuple[tuple, APIKey]] = {}
_LOADED_MAX = 1000


def api_key_authenticate(raw: str) -> APIKey | None:
    """The active key ``raw`` is (with its ``developer``), or None (malformed, unknown, revoked,
    or its developer inactive). Compares hashes in constant time and notes when the key was
    last used. The instance returned may be shared by this process's requests: read it, do
    not change it."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_SCHEME or not parts[1] or not parts[2]:
        return None
    now = timezone.now()
    recent = connection.ops.adapt_datetimefield_value(now - LAST_USED_RESOLUTION)
    with connection.cursor() as cursor:
        cursor.execute(_KEY_SQL, [recent, parts[1]])
        row = cursor.fetchone()
    # Compare even when no row matched, so timing says nothing about which prefixes exist.
    expected = row[1] if row is not None else "0" * 64
    if not hmac.compare_digest(expected, _hash(raw.strip())) or row is None:
        return None
    key_id, _, usable, used_lately, *version = row
    if not usable:
        return None
    if not used_lately:
        APIKey.objects.filter(pk=key_id).update(last_used_at=now)
    loaded = _loaded.get(key_id)
    if loaded is None or loaded[0] != tuple(version):
        key = APIKey.objects.select_related("developer").filter(pk=key_id).first()
        if key is None:  # deleted since the query above
            return None
        if len(_loaded) >= _LOADED_MAX:
            _loaded.clear()
        loaded = _loaded[key_id] = (tuple(version), key)
    return loaded[1]
