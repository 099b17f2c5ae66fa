"""The developer dashboard and its organisation's settings (mounted at ``/developer/``), and the
invitation link a registry manager mails to a new person.

Every page but the invitation is for the organisation's people only
(``developer_member_required``): anyone else gets 404, never another organisation's data.
"""

from http import HTTPStatus
from urllib.parse import urlencode

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.forms import add_service_errors

from . import services
from .access import developer_member_required, developer_of
from .forms import DigestFrequencyForm, WebhookForm, WebhookRotateForm
from .models import AIDeveloper, APIKey, DeveloperMember, Notice, WebhookEndpoint
from .needs import developer_needs

RECENT_NOTICES = 5


# --- Reads ----------------------------------------------------------------------------------------


def _state_filters(now) -> dict[str, Q]:
    """The notice list's states (``answers:developer-notice-list?state=…``): ``open`` awaits an
    answer before its deadline (or has none), ``overdue`` is past its deadline unanswered,
    ``answered`` has an answer. Notices that ask for no answer (digests) are only ever
    answered or nothing."""
    waiting = Q(answerable=True, answered_at__isnull=True)
    return {
        "open": waiting & (Q(answer_due_at__isnull=True) | Q(answer_due_at__gt=now)),
        "overdue": waiting & Q(answer_due_at__lte=now),
        "answered": Q(answered_at__isnull=False),
    }


def notice_counts(developer: AIDeveloper, now=None) -> dict[str, int]:
    """The organisation's notices (not reminders) in each state, in one query."""
    filters = _state_filters(now or timezone.now())
    return Notice.objects.filter(developer=developer, kind=Notice.Kind.NOTICE).aggregate(
        **{state: Count("pk", filter=q) for state, q in filters.items()}
    )


def _state_of(notice: Notice, now) -> str:
    if notice.answered_at:
        return "answered"
    if not notice.answerable:
        return "information"
    if notice.answer_due_at and notice.answer_due_at <= now:
        return "overdue"
    return "open"


def recent_notices(developer: AIDeveloper, limit: int = RECENT_NOTICES) -> list[Notice]:
    """The latest notices (not reminders), each with its ``state``; one query."""
    now = timezone.now()
    notices = list(
        Notice.objects.filter(developer=developer, kind=Notice.Kind.NOTICE)
        .only("pk", "subject", "answerable", "answer_due_at", "answered_at", "created_at")
        .order_by("-created_at", "-pk")[:limit]
    )
    for notice in notices:
        notice.state = _state_of(notice, now)
    return notices


def webhook_endpoint(developer: AIDeveloper) -> WebhookEndpoint | None:
    """The organisation's endpoint: the active one, else the last disabled (one query)."""
    return (
        WebhookEndpoint.objects.filter(developer=developer)
        .order_by("-is_active", "-created_at")
        .first()
    )


def members(developer: AIDeveloper) -> list[DeveloperMember]:
    return list(
        DeveloperMember.objects.filter(developer=developer)
        .select_related("user__creator_profile")
        .order_by("created_at", "pk")
    )


# --- The dashboard ------------------------------------------------------------------------------


@developer_member_required
def home(request):
    developer = request.developer
    return render(
        request,
        "notices/developer/home.html",
        {
            "developer": developer,
            "needs": developer_needs(developer),
            "counts": notice_counts(developer),
            "recent_notices": recent_notices(developer),
            "endpoint": webhook_endpoint(developer),
            "active_keys": APIKey.objects.active().filter(developer=developer).count(),
            "members": members(developer),
        },
    )


# --- Settings: webhook and digest -------------------------------------------------------------


def _settings_page(
    request,
    *,
    webhook_form=None,
    rotate_form=None,
    digest_form=None,
    new_secret: str | None = None,
    status: int = HTTPStatus.OK,
):
    developer = request.developer
    endpoint = webhook_endpoint(developer)
    until = endpoint.previous_secret_until if endpoint else None
    overlap = bool(endpoint and endpoint.previous_secret_encrypted and until)
    overlap_until = until if overlap and until > timezone.now() else None
    response = render(
        request,
        "notices/developer/settings.html",
        {
            "developer": developer,
            "endpoint": endpoint,
            "webhook_form": webhook_form
            or WebhookForm(initial={"url": endpoint.url if endpoint else ""}),
            "rotate_form": rotate_form or WebhookRotateForm(),
            "digest_form": digest_form
            or DigestFrequencyForm(initial={"digest_frequency": developer.digest_frequency}),
            "new_secret": new_secret,
            "overlap_until": overlap_until,
        },
        status=status,
    )
    # A secret in clear is shown once: no cache may keep it, and the same goes for the page
    # that shows whether one exists.
    add_never_cache_headers(response)
    return response


@developer_member_required
def settings_page(request):
    return _settings_page(request)


@require_POST
@developer_member_required
@reauthentication_required
def webhook_set(request):
    """Set or replace the webhook URL (re-enabling a disabled endpoint). A new endpoint's secret
    is shown once, on this very response."""
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_set(
                actor=request.user, developer=request.developer, url=form.cleaned_data["url"]
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                add_service_errors(form, exc)
            else:
                form.add_error("url", exc)
        else:
            if secret:
                messages.success(request, "Your webhook is set. Copy its signing secret now.")
                return _settings_page(request, new_secret=secret)
            messages.success(request, f"Notices now go to {endpoint.url}.")
            return redirect("developer:settings")
    return _settings_page(request, webhook_form=form, status=HTTPStatus.BAD_REQUEST)


@require_POST
@developer_member_required
@reauthentication_required
def webhook_rotate(request):
    """Give the webhook a new secret, shown once on this response; the old one keeps signing
    for the chosen overlap."""
    form = WebhookRotateForm(request.POST)
    endpoint = webhook_endpoint(request.developer)
    if endpoint is None:
        form.add_error(None, "Set a webhook URL first: it gets its secret then.")
    elif form.is_valid():
        try:
            secret = services.webhook_secret_rotate(
                actor=request.user,
                endpoint=endpoint,
                overlap_seconds=form.cleaned_data["overlap_seconds"],
            )
        except ValidationError as exc:
            form.add_error("overlap_seconds", exc)
        else:
            messages.success(request, "The webhook has a new signing secret. Copy it now.")
            return _settings_page(request, new_secret=secret)
    return _settings_page(request, rotate_form=form, status=HTTPStatus.BAD_REQUEST)


@require_POST
@developer_member_required
def digest_set(request):
    form = DigestFrequencyForm(request.POST)
    if form.is_valid():
        try:
            developer = services.digest_frequency_set(
                actor=request.user,
                developer=request.developer,
                frequency=form.cleaned_data["digest_frequency"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if developer.digest_frequency == AIDeveloper.DigestFrequency.OFF:
                messages.success(request, "Consent digests are off.")
            else:
                label = developer.get_digest_frequency_display().lower()
                messages.success(request, f"Consent digests now come {label}.")
            return redirect("developer:settings")
    return _settings_page(request, digest_form=form, status=HTTPStatus.BAD_REQUEST)


# --- The invitation link (anyone who has it) ----------------------------------------------------


def _invitation_page(request, template: str, context: dict, status: int = HTTPStatus.OK):
    response = render(request, f"notices/developer/{template}", context, status=status)
    add_never_cache_headers(response)
    return response


def _link_error(request, exc: services.InvitationLinkError):
    return _invitation_page(
        request,
        "invitation_invalid.html",
        {"message": exc.message, "expired": exc.status == HTTPStatus.GONE},
        status=exc.status,
    )


@never_cache
def invitation(request, token: str):
    """GET explains the invitation and changes nothing (mail scanners fetch links); POST, by
    the signed-in owner of the invited address, accepts it."""
    try:
        invitation = services.invitation_for_token(token=token)
    except services.InvitationLinkError as exc:
        return _link_error(request, exc)
    if invitation.accepted_at is None and services.invitation_is_expired(invitation):
        return _link_error(request, services.invitation_expired_error())
    here = request.get_full_path()
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect(f"{reverse('account_login')}?{urlencode({'next': here})}")
        next_query = urlencode({"next": here})
        return _invitation_page(
            request,
            "invitation.html",
            {
                "invitation": invitation,
                "developer": invitation.developer,
                "login_url": f"{reverse('account_login')}?{next_query}",
                "signup_url": f"{reverse('account_signup')}?{next_query}",
            },
        )

    own = developer_of(request.user)
    if (
        own is not None
        and own.pk == invitation.developer_id
        and invitation.accepted_by_id in (None, request.user.pk)
    ):
        messages.info(request, f"You already act for {own.name}.")
        return redirect("developer:home")

    if request.method == "POST":
        try:
            member = services.invitation_accept(user=request.user, token=token)
        except services.InvitationLinkError as exc:
            return _link_error(request, exc)
        except ValidationError as exc:
            refusal = exc
        else:
            messages.success(
                request, f"Welcome: you now act for {member.developer.name} on this portal."
            )
            return redirect("developer:home")
    else:
        refusal = services.invitation_refusal(user=request.user, invitation=invitation)
        if isinstance(refusal, services.InvitationLinkError):
            return _link_error(request, refusal)

    return _invitation_page(
        request,
        "invitation.html",
        {
            "invitation": invitation,
            "developer": invitation.developer,
            "refusal": refusal.messages[0] if refusal else "",
            "refusal_code": refusal.code if refusal else "",
        },
        status=HTTPStatus.FORBIDDEN if refusal else HTTPStatus.OK,
    )
