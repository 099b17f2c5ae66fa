"""Every write of the ``notices`` app.

- ``registry``: AI developers and their notice contacts (edited by registry managers, audited,
  contacts confirmed through a signed link).
- ``webhooks``: developers' webhook endpoints and the rotation of their signing secrets.
- ``answers``: developers' answers to notices (signed link, dashboard, API, staff).
- ``apikeys``: organisations' API keys (hashed, shown once, revocable).
- ``outbox``: notices handed to the delivery engine by callers, and the suppression list.

The delivery engine's own writes (claims, attempts, the sweep, "retry now") are in
``notices.deliveries``; deadlines and reminders in ``notices.deadlines``.
"""

from .answers import answer_record
from .apikeys import api_key_authenticate, api_key_create, api_key_revoke
from .members import (
    INVITATION_SALT,
    InvitationLinkError,
    digest_frequency_set,
    invitation_accept,
    invitation_create,
    invitation_expired_error,
    invitation_expires_at,
    invitation_for_token,
    invitation_is_expired,
    invitation_refusal,
    invitation_revoke,
    invitation_token_make,
    invitation_url,
    member_remove,
)
from .outbox import notice_create, suppression_clear
from .registry import (
    CONTACT_CONFIRM_SALT,
    CONTACT_FIELDS,
    DEFAULT_CONFIRM_MAX_AGE,
    DEVELOPER_FIELDS,
    RESEND_INTERVAL,
    RESERVED_SLUGS,
    ContactLinkError,
    confirm_max_age,
    contact_add,
    contact_confirm,
    contact_confirm_url,
    contact_for_token,
    contact_remove,
    contact_resend,
    contact_token_make,
    developer_create,
    developer_update,
)
from .webhooks import webhook_endpoint_set, webhook_secret_rotate

__all__ = [
    "answer_record",
    "api_key_authenticate",
    "api_key_create",
    "api_key_revoke",
    "CONTACT_CONFIRM_SALT",
    "CONTACT_FIELDS",
    "DEFAULT_CONFIRM_MAX_AGE",
    "DEVELOPER_FIELDS",
    "RESEND_INTERVAL",
    "RESERVED_SLUGS",
    "ContactLinkError",
    "confirm_max_age",
    "contact_add",
    "contact_confirm",
    "contact_confirm_url",
    "contact_for_token",
    "contact_remove",
    "contact_resend",
    "contact_token_make",
    "developer_create",
    "developer_update",
    "notice_create",
    "suppression_clear",
    "webhook_endpoint_set",
    "webhook_secret_rotate",
    "INVITATION_SALT",
    "InvitationLinkError",
    "digest_frequency_set",
    "invitation_accept",
    "invitation_create",
    "invitation_expired_error",
    "invitation_expires_at",
    "invitation_for_token",
    "invitation_is_expired",
    "invitation_refusal",
    "invitation_revoke",
    "invitation_token_make",
    "invitation_url",
    "member_remove",
]
