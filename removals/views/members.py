"""Guild staff start a removal request for a member who gave their guild a mandate; from then
on they edit and submit it with their pages (``request_for_creator`` lets the staff member who
filed it in while the mandate stands). The member is emailed when staff start it."""

from http import HTTPStatus

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render

from .. import selectors, services
from ..access import staff_guild_ids
from ..forms import FileForMemberForm


@login_required
def file_for_member(request):
    if not staff_guild_ids(request.user):
        raise Http404("Only guild staff file requests for members.")
    mandates = selectors.mandated_members(request.user)
    form = FileForMemberForm(request.POST if request.method == "POST" else None, mandates=mandates)
    if request.method == "POST" and form.is_valid():
        member = form.cleaned_data["mandate"].creator
        try:
            removal = services.draft_create(
                actor=request.user, creator=member, title=form.cleaned_data["title"]
            )
        except PermissionDenied:
            form.add_error("mandate", "This member has not given your guild a mandate.")
        else:
            messages.success(
                request,
                f"A draft is started for {member.label}, who is emailed that you started it; "
                "nothing is sent to any developer until it is submitted and approved.",
            )
            return redirect("removals:edit", pk=removal.pk)
    return render(
        request,
        "removals/file_for_member.html",
        {
            "form": form,
            "has_members": mandates.exists(),
            "filed": selectors.filed_for_members(request.user)[:50],
            "tones": selectors.STATUS_TONE,
        },
        status=HTTPStatus.BAD_REQUEST if form.errors else HTTPStatus.OK,
    )
