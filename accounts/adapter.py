from dataclasses import dataclass
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.shortcuts import resolve_url

from .mail import queue_message
from .selectors import user_roles

# The links allauth puts in its emails (built from the request's host): sign-up confirmation,
# password reset, and the sign-up page named to an unknown address.
EMAIL_LINKS = ("activate_url", "password_reset_url", "signup_url")


@dataclass(frozen=True)
class PortalSite:
    """What allauth's email templates call ``current_site``: the portal by its name and address,
    not by the host a request came in on (``127.0.0.1:8103``)."""

    name: str
    domain: str


def portal_site() -> PortalSite:
    return PortalSite(name=settings.SITE_NAME, domain=urlsplit(settings.SITE_URL).netloc)


def on_site_url(url: str) -> str:
    """``url`` (absolute, on whatever host the request came in on) at ``SITE_URL`` instead."""
    parts = urlsplit(url)
    return settings.SITE_URL + parts.path + (f"?{parts.query}" if parts.query else "")


class AccountAdapter(DefaultAccountAdapter):
    """The one override point for allauth: its emails name the portal and link to ``SITE_URL``,
    and go through the worker after commit."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": portal_site()}
        ctx.update(context)
        ctx["current_site"] = portal_site()
        ctx["site_url"] = settings.SITE_URL
        for name in EMAIL_LINKS:
            if ctx.get(name):
                ctx[name] = on_site_url(ctx[name])
        queue_message(self.render_mail(template_prefix, email, ctx))

    def get_login_redirect_url(self, request) -> str:
        """Where signing in lands when no ``next`` says otherwise (allauth reads ``next`` first):
        guild staff on their staff dashboard, a superuser on the administration dashboard —
        each with their "Needs you" — and everyone else on ``LOGIN_REDIRECT_URL``, the
        creator's dashboard, which sends an AI developer's people on to their developer home."""
        roles = user_roles(request.user)
        if roles.is_guild_staff:
            return resolve_url("portal:staff-dashboard")
        if roles.is_superuser:
            return resolve_url("portal:admin-dashboard")
        return super().get_login_redirect_url(request)
