"""Private downloads — an original, an evidence file, a notice's attachment: always an
attachment (never rendered by the browser), never sniffed into another type, never kept by a
shared cache. One helper for every app (this is the bottom layer)."""

from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404


def private_download(
    source, filename: str, content_type: str, *, cache: str = "private, no-store"
) -> FileResponse:
    """``source``: a stored file (``FieldFile``; 404 when it is missing from storage) or an
    open binary file object."""
    if isinstance(source, FieldFile):
        if not source or not source.storage.exists(source.name):
            raise Http404("The file is no longer stored.")
        source = source.open("rb")
    response = FileResponse(
        source, as_attachment=True, filename=filename, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = cache
    return response
