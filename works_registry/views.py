"""Pages of creators' sites (docs/sites.md): the owner's — the list with the form to declare
one, one site with its token, the two ways to publish it, "check now" (polled while the worker
checks) and removal —; the public page of a verified site; and, for the staff a conflict
between two creators' sites is routed to, that conflict and its resolution.

A site that is not yours does not exist, as far as you can tell (404); the people of an AI
developer have no sites and land on their own dashboard."""

from datetime import timedelta
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.forms import add_service_errors
from consent.decisions import defaults_for
from notices.access import developer_of

from . import sites_conflicts, sites_services
from .forms import SiteConflictResolveForm, SiteDeclareForm
from .models import Site
from .sites_proof import META_NAME, WELL_KNOWN_PATH, check_urls

DETAIL = "works_registry/site_detail.html"


def creator_view(view):
    """Signed in, and not the person of an AI developer (sent to the organisation's dashboard)."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if developer_of(request.user) is not None:
            return redirect("developer:home")
        return view(request, *args, **kwargs)

    return wrapped


def site_for_owner(user, public_id: str) -> Site:
    site = Site.objects.filter(public_id=public_id, owner_id=user.pk).first()
    if site is None:
        raise Http404("No such site among yours.")
    return site


@creator_view
@require_http_methods(["GET", "POST"])
def site_list(request):
    form = SiteDeclareForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            site = sites_services.site_declare(actor=request.user, address=form.cleaned_data["url"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Site added. Publish its token, then check it.")
            return redirect(site.get_absolute_url())
    sites = Site.objects.filter(owner=request.user).exclude(status=Site.Status.REMOVED)
    removed = Site.objects.filter(owner=request.user, status=Site.Status.REMOVED)
    return render(
        request,
        "works_registry/site_list.html",
        {"form": form, "sites": sites, "removed": removed.order_by("-removed_at")[:20]},
        status=400 if form.errors else 200,
    )


def _detail_context(site: Site) -> dict:
    file_url, home_url = check_urls(site.url)
    grace = timedelta(days=settings.SITES_GRACE_DAYS)
    return {
        "site": site,
        "grace_ends": site.failing_since + grace if site.failing_since else None,
        "file_url": file_url,
        "home_url": home_url,
        "well_known_path": WELL_KNOWN_PATH,
        "meta_tag": f'<meta name="{META_NAME}" content="{site.token}">',
        "conflicts": sites_conflicts.site_conflict_notes(site),
    }


@creator_view
@require_GET
def site_detail(request, public_id):
    return render(request, DETAIL, _detail_context(site_for_owner(request.user, public_id)))


@creator_view
@require_GET
def site_status(request, public_id):
    """The status panel alone, for htmx to poll while the worker checks."""
    site = site_for_owner(request.user, public_id)
    return render(request, DETAIL + "#status", _detail_context(site))


@creator_view
@require_POST
def site_check(request, public_id):
    """ "Check now": the worker is woken; htmx gets the status panel (then polls it)."""
    site = site_for_owner(request.user, public_id)
    refused = ""
    try:
        sites_services.site_check_request(actor=request.user, site=site)
    except ValidationError as exc:
        refused = " ".join(exc.messages)
    if not request.htmx:
        if refused:
            messages.error(request, refused)
        return redirect(site.get_absolute_url())
    site.refresh_from_db()
    return render(request, DETAIL + "#status", {**_detail_context(site), "refused": refused})


@creator_view
@require_http_methods(["GET", "POST"])
def site_remove(request, public_id):
    site = site_for_owner(request.user, public_id)
    if site.status == Site.Status.REMOVED:
        raise Http404("This site is already removed.")
    if request.method == "POST":
        sites_services.site_remove(actor=request.user, site=site)
        messages.success(request, f"{site.address} is removed: it no longer counts as yours.")
        return redirect("sites:list")
    return render(request, "works_registry/site_remove.html", {"site": site})


@require_GET
def site_public(request, public_id):
    """A verified site's public page: whose it is, since when, and how AI may use its pages."""
    site = (
        Site.objects.select_related("owner__creator_profile")
        .filter(public_id=public_id, status=Site.Status.VERIFIED)
        .first()
    )
    if site is None:
        raise Http404("No verified site has this id.")
    profile = getattr(site.owner, "creator_profile", None)
    return render(
        request,
        "works_registry/site_public.html",
        {
            "site": site,
            "credit_name": (profile.credit_name or profile.display_name) if profile else "",
            "uses": [
                {"label": d.use_label, "choice": d.label, "plain": d.plain("site")}
                for d in defaults_for(site.owner).values()
            ],
        },
    )


# --- Staff: conflicts between two creators' sites ------------------------------------------------


def _conflict_page(request, conflict, form=None, status=200):
    route, _ = sites_conflicts.site_conflict_route(conflict)
    return render(
        request,
        "works_registry/site_conflict.html",
        {
            "conflict": conflict,
            "sides": [("First verified", conflict.site_a), ("Second verified", conflict.site_b)],
            "routed_to_guild": route == "guild",
            "form": form or SiteConflictResolveForm(conflict=conflict),
        },
        status=status,
    )


@login_required
@require_GET
def site_conflict_detail(request, pk):
    conflict = sites_conflicts.site_conflict_for_handler(request.user, pk)
    return _conflict_page(request, conflict)


@login_required
@require_POST
def site_conflict_resolve(request, pk):
    conflict = sites_conflicts.site_conflict_for_handler(request.user, pk)
    form = SiteConflictResolveForm(request.POST, conflict=conflict)
    if form.is_valid():
        try:
            sites_conflicts.site_conflict_resolve(
                actor=request.user,
                conflict=conflict,
                resolution=form.cleaned_data["resolution"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, f"Site conflict {conflict.pk} is resolved; both creators are told."
            )
            return redirect("works:conflict-queue")
    return _conflict_page(request, conflict, form, status=400)
