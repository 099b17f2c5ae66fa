"""Their evidence files, one by one, and the evidence pack: a ZIP of everything about the request,
built in a temporary file and streamed from it."""

from django.contrib.auth.decorators import login_required
from django.http import FileResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET

from accounts.downloads import private_download

from ..access import request_for_creator
from ..evidence_pack import pack_build


@login_required
@require_GET
def evidence_download(request, pk, evidence_pk):
    removal = request_for_creator(request.user, pk)
    evidence = get_object_or_404(removal.evidence, pk=evidence_pk)
    return private_download(evidence.file, evidence.filename, evidence.content_type)


@login_required
@require_GET
def evidence_pack(request, pk):
    removal = request_for_creator(request.user, pk)
    archive = pack_build(removal)
    response = FileResponse(
        archive,
        as_attachment=True,
        filename=f"removal-request-{removal.pk}-evidence-pack.zip",
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
