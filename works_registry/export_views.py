"""The registry export in the browser, for the people of an AI developer (mounted at
``/developer/registry-export/``): the page with the export there and the build in progress
(polled by htmx while the worker builds), the button that asks for a new one, and the download.

Only the signed-in person's own organisation is ever shown (``developer_member_required``):
anyone who acts for none gets 404; there is no URL naming another organisation's export."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from notices.access import developer_member_required

from . import export

PAGE = "works_registry/export.html"


def _context(request) -> dict:
    found = export.export_for(request.developer)
    return {"developer": request.developer, "export": found}


@require_GET
@never_cache
@developer_member_required
def export_page(request):
    return render(request, PAGE, _context(request))


@require_GET
@never_cache
@developer_member_required
def export_progress(request):
    """The status panel alone, for htmx to poll while a build is queued or running."""
    return render(request, f"{PAGE}#status", _context(request))


@require_POST
@developer_member_required
def export_build(request):
    found = export.export_request(developer=request.developer, actor=request.user)
    if found.state == found.State.BUILDING:
        messages.info(request, "An export is being built already: it is the one you will get.")
    else:
        messages.success(request, "A new export is on its way: this page shows how it goes.")
    return redirect("registry-export:page")


@require_GET
@developer_member_required
def export_download(request):
    found = export.export_for(request.developer)
    response = export.export_response(request, found) if found is not None else None
    if response is None:
        raise Http404("No export has been built for your organisation yet.")
    return response
