"""API keys: the organisation's own page, and the registry managers' page for any organisation.

A new key is shown once, in the response to the POST that creates it (no redirect: the key is
nowhere to redirect to, since only its SHA-256 is stored), and that response is never cached.
Creating a key asks for the password again (allauth's re-authentication); revoking one does not,
so a leaked key can be shut off at once.
"""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from accounts.forms import add_service_errors

from .access import developer_member_required
from .forms_keys import APIKeyCreateForm
from .models import AIDeveloper, APIKey
from .services.apikeys import api_key_create, api_key_revoke
from .views import manager_required


def _keys(developer: AIDeveloper) -> QuerySet[APIKey]:
    """Every key of ``developer``, revoked ones too, newest first (one query)."""
    return APIKey.objects.filter(developer=developer).select_related(
        "created_by__creator_profile", "revoked_by__creator_profile"
    )


def _revoke(request, key: APIKey) -> None:
    if key.revoked_at is not None:
        messages.info(request, f"The key “{key.name}” was already revoked.")
        return
    api_key_revoke(actor=request.user, key=key)
    messages.success(
        request,
        f"The key “{key.name}” (ccp_{key.prefix}_…) is revoked: "
        "calls made with it are refused from now on.",
    )


# --- The organisation's page ---------------------------------------------------------------------


@developer_member_required
@require_http_methods(["GET", "POST"])
@reauthentication_required(allow_get=True)
@never_cache
def developer_keys(request):
    developer = request.developer
    form = APIKeyCreateForm(request.POST or None)
    new_key = clear_key = None
    if request.method == "POST" and form.is_valid():
        try:
            new_key, clear_key = api_key_create(
                actor=request.user, developer=developer, name=form.cleaned_data["name"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            form = APIKeyCreateForm()
    return render(
        request,
        "notices/keys/developer_keys.html",
        {
            "developer": developer,
            "keys": _keys(developer),
            "form": form,
            "new_key": new_key,
            "clear_key": clear_key,
            "api_url": request.build_absolute_uri(reverse("notices-api:notice-list")),
        },
    )


@developer_member_required
@require_http_methods(["GET", "POST"])
def developer_key_revoke(request, pk: int):
    """GET asks for confirmation; POST revokes at once."""
    key = get_object_or_404(APIKey, pk=pk, developer=request.developer)
    if request.method == "POST":
        _revoke(request, key)
        return redirect("apikeys:developer-keys")
    return render(
        request,
        "notices/keys/revoke_confirm.html",
        {"developer": request.developer, "key": key, "back_url": reverse("apikeys:developer-keys")},
    )


# --- Registry managers and superusers -------------------------------------------------------------


@manager_required
def staff_keys(request, slug: str):
    developer = get_object_or_404(AIDeveloper, slug=slug)
    return render(
        request,
        "notices/keys/staff_keys.html",
        {"developer": developer, "keys": _keys(developer), "staff": True},
    )


@manager_required
@require_http_methods(["GET", "POST"])
def staff_key_revoke(request, slug: str, pk: int):
    """GET asks for confirmation; POST revokes at once (audited by the service)."""
    key = get_object_or_404(APIKey.objects.select_related("developer"), pk=pk, developer__slug=slug)
    back_url = reverse("apikeys:staff-keys", args=[slug])
    if request.method == "POST":
        _revoke(request, key)
        return redirect(back_url)
    return render(
        request,
        "notices/keys/revoke_confirm.html",
        {"developer": key.developer, "key": key, "back_url": back_url, "staff": True},
    )
