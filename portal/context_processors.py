from django.conf import settings

from accounts.selectors import user_roles
from notices.access import developer_of


def roles(request):
    """The signed-in user's roles, for the navigation, and the AI developer they act for
    (``developer_org``). One query each at most, cached per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": None, "developer_org": None}
    if not hasattr(request, "_portal_roles"):
        request._portal_roles = user_roles(user)
    # developer_of caches on the user object, which lives as long as the request; the
    # developer dashboard's own access check reads the same cache.
    return {"roles": request._portal_roles, "developer_org": developer_of(user)}


def support(request):
    """The address the portal's pages name when they say where to write for help."""
    return {"support_email": settings.SUPPORT_EMAIL}
