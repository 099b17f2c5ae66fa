"""Private downloads — an original, an evidence file, a notice's attachment: always an
attachment (never rendered by the browser), never sniffed into another type, never kept by a
shared cache. One helper for every app (this is the bottom layer).

A stored file is streamed through the portal from the folder; from a bucket the browser is
sent, after the caller's access checks, to a signed link that names that one object, carries
``Content-Disposition: attachment`` and the type, and expires within minutes
(``MEDIA_BUCKET_LINK_SECONDS``). The developer API never redirects: it promises the bytes
and their SHA-256, so it streams (``redirect=False``)."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponseRedirect

from . import storage


def private_download(
    source, filename: str, content_type: str, *, cache: str = "private, no-store", redirect=True
):
    """``source``: a stored file (``FieldFile``; 404 when it is missing from storage) or an
    open binary file object."""
    if isinstance(source, FieldFile):
        if not source or not source.storage.exists(source.name):
            raise Http404("The file is no longer stored.")
        link = storage.download_url(source, filename=filename, content_type=content_type)
        if redirect and link:
            response = HttpResponseRedirect(link)
            response["Cache-Control"] = "no-store"  # the link is personal and short-lived
            response["Referrer-Policy"] = "no-referrer"
            return response
        source = _stream(source)
    response = FileResponse(
        source, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache
    return response


def stored_image(source: FieldFile, content_type: str = "image/jpeg") -> FileResponse:
    """A small stored picture (a thumbnail) shown inline on the portal's own pages, streamed
    through the portal so it needs no other origin in the pages' CSP."""
    if not source:
        raise Http404
    response = FileResponse(_stream(source), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _stream(source: FieldFile):
    try:
        return source.storage.stream(source.name)
    except FileNotFoundError:
        raise Http404("The file is no longer stored.") from None
