"""Licence grants: the exceptions a creator makes for one AI developer (some uses, some or all
of their works, under a licence, for a period)."""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.forms import add_service_errors
from works.models import Work

from .. import access, selectors, services
from ..forms import GrantForm
from ..wording import GRANT_STATE_LABELS, grant_state, uses_sentence


@login_required
def grants(request):
    today = timezone.localdate()
    page = Paginator(selectors.grants_for_owner(request.user), 50).get_page(request.GET.get("page"))
    for grant in page:
        grant.state = grant_state(grant, today)
        grant.state_label = GRANT_STATE_LABELS[grant.state]
        grant.uses_words = uses_sentence(grant.uses)
    return render(request, "consent/grants.html", {"page": page})


@login_required
@reauthentication_required(allow_get=True)
def grant_create(request):
    # "Only this work", when they came from a work's page.
    public_id = request.POST.get("work") if request.method == "POST" else request.GET.get("work")
    work = None
    if public_id:
        work = Work.objects.filter(owner=request.user, public_id=public_id).first()
        if work is None and request.method == "GET":
            work = access.work_of(request.user, public_id)  # 404
    form = GrantForm(request.POST or None, owner=request.user, work=work)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            grant = services.grant_create(
                actor=request.user,
                owner=request.user,
                developer=data["developer"],
                uses=data["uses"],
                licence_ref=data["licence_ref"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                works=form.works,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                f"{grant.developer.name} now has your licence {grant.licence_ref}. "
                "Saved — a receipt is on its way to your inbox.",
            )
            return redirect("consent:grants")
    return render(request, "consent/grant_form.html", {"form": form, "work": work})


@login_required
@reauthentication_required(allow_get=True)
@require_POST
def grant_revoke(request, pk: int):
    grant = access.grant_for_owner(request.user, pk)
    if grant.revoked_at is None:
        services.grant_revoke(actor=request.user, grant=grant)
        messages.success(
            request,
            f"The licence {grant.licence_ref} of {grant.developer.name} is revoked. "
            "Saved — a receipt is on its way to your inbox.",
        )
    return redirect("consent:grants")
