from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from . import selectors, services
from .access import membership_for_staff, superuser_required
from .forms import (
    GuildForm,
    MembershipClaimForm,
    MembershipDecisionForm,
    ProfileForm,
    UserByEmailForm,
    add_service_errors,
)
from .models import AuditEvent, Guild, GuildStaffAppointment, User

# --- Creator ------------------------------------------------------------------------------------


@login_required
def profile_edit(request):
    profile = services.profile_get_or_create(user=request.user)
    form = ProfileForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            services.profile_update(actor=request.user, profile=profile, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Your profile is saved.")
            return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "profile": profile})


@login_required
def membership_claim(request):
    form = MembershipClaimForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            membership = services.membership_claim(
                user=request.user,
                guild=form.cleaned_data["guild"],
                membership_number=form.cleaned_data["membership_number"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"Your claim of membership of {membership.guild.name} is sent to its staff.",
            )
            return redirect("portal:dashboard")
    return render(
        request,
        "accounts/membership_claim.html",
        {"form": form, "memberships": selectors.memberships_of(request.user)},
    )


# --- Guild staff -------------------------------------------------------------------------------


@login_required
def membership_queue(request):
    if not selectors.user_roles(request.user).is_guild_staff:
        raise PermissionDenied
    page = Paginator(selectors.membership_queue(request.user), 25).get_page(request.GET.get("page"))
    return render(request, "accounts/membership_queue.html", {"page": page})


@login_required
def membership_decide(request, pk: int):
    membership = membership_for_staff(request.user, pk)
    form = MembershipDecisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_decide(
                actor=request.user,
                membership=membership,
                verify=form.cleaned_data["decision"] == "verify",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Decision recorded for {membership.user.label}.")
            return redirect("accounts:membership-queue")
    history = selectors.memberships_of(membership.user).filter(guild=membership.guild)
    return render(
        request,
        "accounts/membership_decide.html",
        {"membership": membership, "form": form, "history": history},
    )


# --- Superusers: guilds, appointments, roles ---------------------------------------------------


@superuser_required
def guild_list(request):
    return render(
        request,
        "accounts/guild_list.html",
        {"guilds": selectors.with_member_counts(Guild.objects.all())},
    )


@superuser_required
@reauthentication_required(allow_get=True)
def guild_edit(request, slug: str | None = None):
    guild = get_object_or_404(Guild, slug=slug) if slug else None
    form = GuildForm(request.POST or None, instance=guild)
    if request.method == "POST" and form.is_valid():
        try:
            guild = services.guild_save(
                actor=request.user, guild=guild or Guild(), **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"{guild.name} is saved.")
            return redirect("accounts:guild-detail", slug=guild.slug)
    return render(request, "accounts/guild_form.html", {"form": form, "guild": guild})


@superuser_required
def guild_detail(request, slug: str):
    guild = get_object_or_404(Guild, slug=slug)
    appointments = GuildStaffAppointment.objects.filter(guild=guild).select_related(
        "user", "appointed_by", "revoked_by"
    )
    return render(
        request,
        "accounts/guild_detail.html",
        {"guild": guild, "appointments": appointments, "form": UserByEmailForm()},
    )


@superuser_required
@reauthentication_required
@require_POST
def staff_appoint(request, slug: str):
    guild = get_object_or_404(Guild, slug=slug)
    form = UserByEmailForm(request.POST)
    if form.is_valid():
        try:
            services.staff_appoint(actor=request.user, guild=guild, user=form.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, f"{form.user.email} is now staff of {guild.name}.")
    else:
        messages.error(request, " ".join(form.errors.get("email", ["Give a valid address."])))
    return redirect("accounts:guild-detail", slug=guild.slug)


@superuser_required
@reauthentication_required
@require_POST
def staff_revoke(request, slug: str, pk: int):
    appointment = get_object_or_404(GuildStaffAppointment, pk=pk, guild__slug=slug)
    services.staff_revoke(actor=request.user, appointment=appointment)
    messages.success(
        request, f"{appointment.user.email} is no longer staff of {appointment.guild.name}."
    )
    return redirect("accounts:guild-detail", slug=slug)


@superuser_required
def role_list(request):
    return render(
        request,
        "accounts/roles.html",
        {
            "managers": User.objects.filter(is_registry_manager=True),
            "form": UserByEmailForm(),
            "events": AuditEvent.objects.filter(
                Q(action__startswith="role.") | Q(action__startswith="staff.")
            ).select_related("actor")[:50],
        },
    )


@superuser_required
@reauthentication_required
@require_POST
def registry_manager_set(request):
    grant = request.POST.get("grant") == "1"
    form = UserByEmailForm(request.POST)
    if form.is_valid():
        services.registry_manager_set(actor=request.user, user=form.user, value=grant)
        verb = "is now" if grant else "is no longer"
        messages.success(request, f"{form.user.email} {verb} a registry manager.")
    else:
        messages.error(request, " ".join(form.errors.get("email", ["Give a valid address."])))
    return redirect("accounts:roles")
