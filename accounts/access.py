"""Object-level access: each helper returns the object or raises 404/403, never leaks it."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import GuildMembership, User
from .selectors import staff_guilds


def require_superuser(user: User) -> None:
    if not (user.is_authenticated and user.is_active and user.is_superuser):
        raise PermissionDenied


def superuser_required(view):
    """Signed in (else to the login page) and a superuser (else 403) — checked before any
    re-authentication prompt, so nobody else is ever asked for a password here."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        require_superuser(request.user)
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def membership_for_staff(user: User, pk: int) -> GuildMembership:
    """A membership claim in one of ``user``'s guilds, not their own; 404 otherwise."""
    try:
        return (
            GuildMembership.objects.select_related("user", "user__creator_profile", "guild")
            .exclude(user=user)
            .get(pk=pk, guild__in=staff_guilds(user))
        )
    except GuildMembership.DoesNotExist:
        raise Http404("No such membership claim in your guilds.") from None
