from accounts.selectors import user_roles


def roles(request):
    """The signed-in user's roles, for the navigation. One query at most, cached per request."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": None}
    if not hasattr(request, "_portal_roles"):
        request._portal_roles = user_roles(user)
    return {"roles": request._portal_roles}
