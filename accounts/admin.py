"""The Django admin: signed into only through allauth's login, and read-only for accounts.

Sign-in goes through allauth (its rate limits, its two-factor stage, mandatory verification):
the admin's own login view sends anonymous visitors to the portal's login with ``next`` back to
the admin, and refuses signed-in people who are not staff. Its password change sends people to
the portal's page (re-authentication, a notification email).

Accounts, email addresses and authenticators are read-only here: they change only through the
portal's own pages, which re-authenticate, notify and audit. Authenticators are shown without
their data (the TOTP secret and recovery-code seed). Django's groups are not offered: the portal's
roles are staff appointments and flags, not permissions (docs/operations.md).
"""

from allauth.account.admin import EmailAddressAdmin
from allauth.account.decorators import secure_admin_login
from allauth.account.models import EmailAddress
from allauth.mfa.admin import AuthenticatorAdmin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.models import Group
from django.shortcuts import redirect

from .models import OutboundEmail, User

admin.site.login = secure_admin_login(admin.site.login)


def _password_change(request, extra_context=None):
    return redirect("account_change_password")


admin.site.password_change = _password_change


class ReadOnlyAdmin(admin.ModelAdmin):
    actions = None

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "is_active", "is_registry_manager", "is_staff", "is_superuser"]
    list_filter = ["is_active", "is_registry_manager", "is_staff", "is_superuser"]
    search_fields = ["email"]
    fields = [
        "email",
        "ref",
        "is_active",
        "is_registry_manager",
        "is_staff",
        "is_superuser",
        "date_joined",
        "last_login",
    ]


admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class ReadOnlyEmailAddressAdmin(ReadOnlyAdmin, EmailAddressAdmin):
    actions = None  # not allauth's "mark as verified"
    raw_id_fields = []


admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class ReadOnlyAuthenticatorAdmin(ReadOnlyAdmin, AuthenticatorAdmin):
    raw_id_fields = []
    fields = ["user", "type", "created_at", "last_used_at"]


admin.site.unregister(Group)


@admin.register(OutboundEmail)
class OutboundEmailAdmin(ReadOnlyAdmin):
    """Emails to people, for operators: what is waiting, what failed and why. Without their
    body, which may hold someone's sign-in or password-reset link."""

    list_display = ["to", "subject", "status", "attempts", "created_at", "sent_at", "last_error"]
    list_filter = ["status"]
    search_fields = ["to", "subject", "message_id"]
    fields = [
        "to",
        "subject",
        "message_id",
        "status",
        "attempts",
        "created_at",
        "next_attempt_at",
        "lease_until",
        "sent_at",
        "last_error",
    ]
