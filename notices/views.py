"""The AI-developer registry: read by guild staff, edited by registry managers and superusers.

A notice contact's confirmation link is the one page open to anyone: its recipient has no
account here.
"""

import copy
from functools import wraps
from http import HTTPStatus

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import add_service_errors
from accounts.selectors import user_roles

from . import selectors, services
from .forms import ContactForm, DeveloperForm, InvitationForm
from .models import AIDeveloper, DeveloperContact, DeveloperInvitation, DeveloperMember


def reader_required(view):
    """Guild staff, registry managers and superusers; 403 for anyone else signed in."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        roles = user_roles(request.user)
        request._portal_roles = roles  # what portal.context_processors.roles caches per request
        if not roles.can_read_registry:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def manager_required(view):
    """Registry managers and superusers; checked before any re-authentication is asked for."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.can_manage_registry:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _contact(slug: str, pk: int) -> DeveloperContact:
    return get_object_or_404(
        DeveloperContact.objects.select_related("developer"), developer__slug=slug, pk=pk
    )


# --- Reading -----------------------------------------------------------------------------------


@reader_required
def developer_list(request):
    return render(
        request,
        "notices/developer_list.html",
        {"developers": selectors.developers(), "can_manage": request.user.can_manage_registry},
    )


INVITATIONS_SHOWN = 20


def _people(developer: AIDeveloper) -> tuple[list[DeveloperMember], list[DeveloperInvitation]]:
    """The organisation's people, and its invitations not yet accepted (open, expired or
    revoked), newest first; two queries."""
    members = list(
        DeveloperMember.objects.filter(developer=developer)
        .select_related("user__creator_profile", "invited_by__creator_profile")
        .order_by("created_at", "pk")
    )
    invitations = list(
        DeveloperInvitation.objects.filter(developer=developer, accepted_at__isnull=True)
        .select_related("invited_by__creator_profile")
        .order_by("-created_at", "-pk")[:INVITATIONS_SHOWN]
    )
    for invitation in invitations:
        invitation.expires_at = services.invitation_expires_at(invitation)
        invitation.is_expired = services.invitation_is_expired(invitation)
    return members, invitations


@reader_required
def developer_detail(request, slug: str):
    developer = get_object_or_404(AIDeveloper, slug=slug)
    members, invitations = _people(developer)
    can_manage = request.user.can_manage_registry
    return render(
        request,
        "notices/developer_detail.html",
        {
            "developer": developer,
            "contacts": selectors.developer_contacts(developer),
            "history": selectors.developer_history(developer),
            "can_manage": can_manage,
            "members": members,
            "invitations": invitations,
            "invitation_form": InvitationForm() if can_manage else None,
        },
    )


# --- Editing (registry managers and superusers) ------------------------------------------------


@manager_required
def developer_create(request):
    form = DeveloperForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            developer = services.developer_create(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"{developer.name} is in the registry. Add a notice contact next."
            )
            return redirect(developer)
    return render(request, "notices/developer_form.html", {"form": form, "developer": None})


@manager_required
@reauthentication_required(allow_get=True)
def developer_edit(request, slug: str):
    developer = get_object_or_404(AIDeveloper, slug=slug)
    # The form writes into its instance while validating: the page keeps showing the saved one.
    form = DeveloperForm(request.POST or None, instance=copy.copy(developer))
    if request.method == "POST" and form.is_valid():
        try:
            developer = services.developer_update(
                actor=request.user, developer=developer, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{developer.name} is saved.")
            return redirect(developer)
    return render(
        request,
        "notices/developer_form.html",
        {"form": form, "developer": developer, "history": selectors.developer_history(developer)},
    )


@manager_required
@reauthentication_required(allow_get=True)
def contact_add(request, slug: str):
    developer = get_object_or_404(AIDeveloper, slug=slug)
    form = ContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            contact = services.contact_add(
                actor=request.user, developer=developer, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"A confirmation link is on its way to {contact.email}. Notices go there only "
                "once its recipient confirms it.",
            )
            return redirect(developer)
    return render(request, "notices/contact_form.html", {"form": form, "developer": developer})


@require_POST
@manager_required
def contact_resend(request, slug: str, pk: int):
    contact = _contact(slug, pk)
    try:
        services.contact_resend(actor=request.user, contact=contact)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"A new confirmation link is on its way to {contact.email}.")
    return redirect(contact.developer)


@require_POST
@manager_required
@reauthentication_required
def contact_remove(request, slug: str, pk: int):
    contact = _contact(slug, pk)
    services.contact_remove(actor=request.user, contact=contact)
    messages.success(request, f"{contact.email} is removed: no more notices go to it.")
    return redirect(contact.developer)


# --- The organisation's people (registry managers and superusers) --------------------------------


@manager_required
@reauthentication_required(allow_get=True)
def invitation_create(request, slug: str):
    developer = get_object_or_404(AIDeveloper, slug=slug)
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invitation_create(
                actor=request.user, developer=developer, email=form.cleaned_data["email"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"An invitation is on its way to {invitation.email}. Its recipient joins "
                f"{developer.name} once they accept it, signed in with that address.",
            )
            return redirect(developer)
    status = HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK
    return render(
        request,
        "notices/developer/invitation_form.html",
        {"form": form, "developer": developer},
        status=status,
    )


@require_POST
@manager_required
@reauthentication_required
def invitation_revoke(request, slug: str, pk: int):
    invitation = get_object_or_404(
        DeveloperInvitation.objects.select_related("developer"), developer__slug=slug, pk=pk
    )
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, f"The invitation to {invitation.email} is withdrawn.")
    return redirect(invitation.developer)


@require_POST
@manager_required
@reauthentication_required
def member_remove(request, slug: str, pk: int):
    member = get_object_or_404(
        DeveloperMember.objects.select_related("developer", "user"), developer__slug=slug, pk=pk
    )
    services.member_remove(actor=request.user, member=member)
    messages.success(request, f"{member.user.email} no longer acts for {member.developer.name}.")
    return redirect(member.developer)


# --- The link sent to a new contact (anyone) ---------------------------------------------------


def _link_invalid(request, exc: services.ContactLinkError):
    return render(
        request,
        "notices/contact_link_invalid.html",
        {"message": exc.message, "expired": exc.status == HTTPStatus.GONE},
        status=exc.status,
    )


@never_cache
def contact_confirm(request, token: str):
    """GET shows what would be confirmed and changes nothing (mail scanners fetch links);
    POST confirms."""
    try:
        if request.method == "POST":
            contact, confirmed_now = services.contact_confirm(token=token)
        else:
            contact = services.contact_for_token(token=token)
            confirmed_now = False
    except services.ContactLinkError as exc:
        return _link_invalid(request, exc)
    if request.method == "POST" or contact.confirmed_at:
        return render(
            request,
            "notices/contact_confirm_done.html",
            {"contact": contact, "developer": contact.developer, "confirmed_now": confirmed_now},
        )
    return render(
        request,
        "notices/contact_confirm.html",
        {"contact": contact, "developer": contact.developer},
    )
