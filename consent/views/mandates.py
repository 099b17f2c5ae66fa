"""Mandates: a creator lets the staff of a guild they are a verified member of change their AI
choices for them. They alone give and revoke mandates; staff are named in every receipt."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.selectors import verified_guilds

from .. import access, selectors, services


@login_required
def mandates(request):
    history = list(selectors.mandates_of(request.user))
    active = {m.guild_id: m for m in history if m.revoked_at is None}
    guilds = [(guild, active.get(guild.pk)) for guild in verified_guilds(request.user)]
    return render(
        request,
        "consent/mandates.html",
        {"guilds": guilds, "history": history},
    )


@login_required
@reauthentication_required(allow_get=True)
@require_POST
def mandate_grant(request, slug: str):
    guild = get_object_or_404(verified_guilds(request.user), slug=slug)
    try:
        services.mandate_grant(creator=request.user, guild=guild)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"The staff of {guild.name} may now change your AI choices for you. "
            "You will get a receipt each time they do.",
        )
    return redirect("consent:mandates")


@login_required
@reauthentication_required(allow_get=True)
@require_POST
def mandate_revoke(request, pk: int):
    mandate = access.mandate_for_creator(request.user, pk)
    services.mandate_revoke(creator=request.user, mandate=mandate)
    messages.success(
        request, f"The staff of {mandate.guild.name} may no longer change your AI choices."
    )
    return redirect("consent:mandates")
