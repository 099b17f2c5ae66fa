"""Who may see and act for an AI developer organisation.

A developer's people (``DeveloperMember``) see only their organisation: its notices, answers,
webhook, API keys and digest. Registry managers and superusers may act for any organisation.
Anything else is a 404, never another organisation's data.
"""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404

from .models import AIDeveloper, DeveloperMember, Notice


def developer_of(user) -> AIDeveloper | None:
    """The organisation ``user`` acts for, or None. One query, cached on the user object."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    if not hasattr(user, "_developer_of"):
        member = DeveloperMember.objects.select_related("developer").filter(user_id=user.pk).first()
        user._developer_of = member.developer if member else None
    return user._developer_of


def can_manage_developer(user, developer: AIDeveloper) -> bool:
    """Its own people, registry managers and superusers manage an organisation's technical
    settings (webhook, API keys, digest)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.can_manage_registry:
        return True
    own = developer_of(user)
    return own is not None and own.pk == developer.pk


def developer_member_required(view):
    """For the developer dashboard: the signed-in person's organisation becomes
    ``request.developer``; anyone who acts for none gets 404."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        developer = developer_of(request.user)
        if developer is None:
            raise Http404("You do not act for an AI developer.")
        request.developer = developer
        return view(request, *args, **kwargs)

    return wrapper


def notice_for_developer(developer: AIDeveloper, pk: int) -> Notice:
    """A notice addressed to ``developer`` (404 for any other)."""
    return get_object_or_404(
        Notice.objects.select_related("developer", "reminds"), pk=pk, developer=developer
    )
