from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context as allauth_context
from django.contrib.sites.shortcuts import get_current_site

from .mail import queue_message


class AccountAdapter(DefaultAccountAdapter):
    """The one override point for allauth: its emails go through the worker after commit."""

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        queue_message(self.render_mail(template_prefix, email, ctx))
