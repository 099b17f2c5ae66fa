"""The full export of a consent digest: every work whose effective decision for one AI developer
changed in one period, rebuilt on demand from the consent ledger and streamed as CSV or JSON.

Allowed to the organisation's people (signed in), to a request carrying one of its API keys
(``Authorization: Bearer <key>`` or ``API <key>``: the API's one key check,
``notices.api_base.api_key_check``, with the API's rate limits, docs/api.md), and to registry
managers and superusers. Anyone else gets a 404, as if the organisation did not exist; a request
without a session or key is sent to sign in, and one with an unusable key gets a JSON 401 (429
over the API's limits).
"""

from collections.abc import Iterable, Iterator
from http import HTTPStatus

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.http import require_GET

from notices.access import can_manage_developer
from notices.api_base import APIError, api_key_check
from notices.models import AIDeveloper

from .. import digests

PIECE_SIZE = 64 * 1024


def _developer(request, slug: str):
    """The organisation ``slug`` if the request may read its digests, else a response (sign in,
    401) or Http404."""
    if request.headers.get("Authorization", "").strip():
        try:
            key = api_key_check(request)
        except APIError as exc:
            return exc.response()
        if key.developer.slug != slug:
            return APIError(HTTPStatus.NOT_FOUND, "not_found", "No such digest.").response()
        return key.developer
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    developer = get_object_or_404(AIDeveloper, slug=slug)
    if not can_manage_developer(request.user, developer):
        raise Http404("No such digest.")
    return developer


def _pieces(texts: Iterable[str]) -> Iterator[str]:
    buffer, size = [], 0
    for text in texts:
        buffer.append(text)
        size += len(text)
        if size >= PIECE_SIZE:
            yield "".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield "".join(buffer)


def _export(request, slug: str, period: str, fmt: str):
    developer = _developer(request, slug)
    if not isinstance(developer, AIDeveloper):
        return developer
    parsed = digests.period_parse(period)
    if parsed is None or parsed.end > timezone.now():  # malformed, or not over yet
        raise Http404("No such period.")
    digest = digests.digest_build(developer=developer, start=parsed.start, end=parsed.end)
    if fmt == "json":
        texts = digests.json_document(digest, parsed, digest.rows())
        content_type = "application/json; charset=utf-8"
    else:
        texts = digests.csv_document(digest.rows())
        content_type = "text/csv; charset=utf-8"
    response = StreamingHttpResponse(_pieces(texts), content_type=content_type)
    filename = f"consent-digest-{developer.slug}-{parsed.label}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
def export_csv(request, slug: str, period: str):
    return _export(request, slug, period, "csv")


@require_GET
def export_json(request, slug: str, period: str):
    return _export(request, slug, period, "json")
