"""The top layer: home page, health check and one dashboard per role."""

from http import HTTPStatus

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from accounts import selectors as account_selectors
from accounts import services as account_services
from accounts.models import AuditEvent, Guild, GuildMembership, User
from consent import decisions as consent_decisions
from consent import ledger
from disclosures import creator as findings_selectors
from notices import selectors as notice_selectors
from notices.access import developer_of
from removals import selectors as removal_selectors
from works import selectors as work_selectors

from . import health, needs
from .forms import AccountDeleteForm


def home(request):
    return render(request, "portal/home.html")


@never_cache
@require_GET
def healthz(request):
    result = health.report()
    status = HTTPStatus.OK if result["ok"] else HTTPStatus.SERVICE_UNAVAILABLE
    return JsonResponse(result, status=status)


@login_required
def dashboard(request):
    """The creator's dashboard: every signed-in person is a creator first, except the people
    of an AI developer, who land on their organisation's dashboard (so signing in does too)."""
    user = request.user
    if developer_of(user) is not None:
        return redirect("developer:home")
    work_counts = work_selectors.counts_for_owner(user)
    new_findings = findings_selectors.new_findings_count(user)
    return render(
        request,
        "portal/dashboard.html",
        {
            "needs": needs.creator_needs(
                user, conflicts=work_counts["conflicts"], findings=new_findings
            ),
            "profile": getattr(user, "creator_profile", None),
            "memberships": account_selectors.memberships_of(user),
            "work_counts": work_counts,
            "ai_defaults": list(consent_decisions.defaults_for(user).values()),
            "removal_counts": removal_selectors.counts_for_creator(user),
            "new_findings": new_findings,
        },
    )


@login_required
def staff_dashboard(request):
    roles = account_selectors.user_roles(request.user)
    if not roles.is_guild_staff:
        raise PermissionDenied
    guilds = account_selectors.with_member_counts(account_selectors.staff_guilds(request.user))
    # Every queue that waits on this person, counted once: for "Needs you" and the figures.
    queues = needs.staff_queues(request.user)
    return render(
        request,
        "portal/staff_dashboard.html",
        {
            "guilds": guilds,
            "needs": needs.queue_needs(queues),
            "queue_count": queues["membership-claims"].count,
            "oldest_claims": account_selectors.membership_queue(request.user)[:5],
            "work_claims_count": queues["work-claims"].count,
            "conflicts_count": queues["conflicts"].count,
            "removals_waiting": queues["removal-requests"].count,
            "removals_overdue": queues["overdue-notices"].count,
        },
    )


@login_required
def registry_dashboard(request):
    if not request.user.can_manage_registry:
        raise PermissionDenied
    return render(
        request,
        "portal/registry_dashboard.html",
        {
            "summary": notice_selectors.registry_summary(),
            "recent_changes": notice_selectors.registry_changes()[:10],
        },
    )


@login_required
def admin_dashboard(request):
    if not request.user.is_superuser:
        raise PermissionDenied
    # Their own queues: claims of creators with no verified membership, conflicts with no
    # common guild, requests no guild's staff may review — and notices that could not be
    # delivered. Counted once, for "Needs you" and the figures.
    queues = needs.staff_queues(request.user)
    queues["failed-deliveries"] = needs.failed_deliveries()
    return render(
        request,
        "portal/admin_dashboard.html",
        {
            "needs": needs.queue_needs(queues),
            "guild_count": Guild.objects.count(),
            "user_count": User.objects.count(),
            "pending_claims": GuildMembership.objects.filter(
                status=GuildMembership.Status.CLAIMED
            ).count(),
            "work_claims_count": queues["work-claims"].count,
            "conflicts_count": queues["conflicts"].count,
            "removals_waiting": queues["removal-requests"].count,
            "removals_overdue": queues["overdue-notices"].count,
            "failed_deliveries": queues["failed-deliveries"].count,
            "recent_events": AuditEvent.objects.select_related("actor")[:15],
        },
    )


@login_required
@reauthentication_required
def account_delete(request):
    """The creator deletes their own account. Their names are first blanked beside the consent
    ledger's hashed entries, which stay (AI developers' copies still verify); then their account
    and everything that is theirs go."""
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        with transaction.atomic():
            ledger.forget_labels(user)
            account_services.account_delete(actor=user, user=user)
        logout(request)
        messages.success(
            request,
            "Your account is deleted, with your works, files and choices. "
            "Your consent history stays, without your name.",
        )
        return redirect("portal:home")
    return render(request, "portal/account_delete.html", {"form": form})
