"""What every path under ``/api/`` gets before and after its view, whichever framework serves it
(docs/api.md): the call counted against its address first of all and, when it carries a
key, against the key (``notices.api_base.api_key_check``, the one key check: its key is
read from the database first, then both counts are made in one round trip; a bad key is a 401
wherever it is sent); a 404, 405 or 500 that Django or django-ninja answered in HTML or plain
text answered in JSON instead (a 405 with its ``Allow``); ``Cache-Control: no-store`` unless
the view chose otherwise."""

from http import HTTPStatus

from django.conf import settings
from django.shortcuts import render

from accounts.storage import UNAVAILABLE_MESSAGE, StorageUnavailable
from notices.api_base import APIError, api_key_check, api_limit_address

API_PREFIX = "/api/"


def _is_json(response) -> bool:
    return response.get("Content-Type", "").startswith("application/json")


def _as_json(request, response):
    status = response.status_code
    if status == HTTPStatus.NOT_FOUND:
        return APIError(
            status, "not_found", f"There is nothing at {request.path}: see /api/v1/docs."
        ).response()
    if status == HTTPStatus.METHOD_NOT_ALLOWED:
        allowed = sorted({m.strip() for m in response.get("Allow", "").split(",") if m.strip()})
        return APIError(
            status,
            "method_not_allowed",
            f"{request.method} is not allowed here: use {' or '.join(allowed)}.",
            headers={"Allow": ", ".join(allowed)},
        ).response()
    if status == HTTPStatus.INTERNAL_SERVER_ERROR and not settings.DEBUG:
        return APIError(
            status, "server_error", "Something went wrong on our side; it has been logged."
        ).response()
    return response


class APIMiddleware:
    """Put high in ``MIDDLEWARE`` (before sessions: the API never uses one)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            if request.headers.get("Authorization", "").strip():
                api_key_check(request)  # counts the address too
            else:
                api_limit_address(request)
        except APIError as exc:
            return exc.response()
        response = self.get_response(request)
        if not _is_json(response) and response.status_code in (
            HTTPStatus.NOT_FOUND,
            HTTPStatus.METHOD_NOT_ALLOWED,
            HTTPStatus.INTERNAL_SERVER_ERROR,
        ):
            response = _as_json(request, response)
        if not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response


class StorageUnavailableMiddleware:
    """The file store (``MEDIA_STORAGE=s3``) did not answer while a request read or wrote a
    file: a 503 that says so — a page, or the API's JSON error — with ``Retry-After``, instead
    of a 500. The service's transaction has rolled back and a write that failed left nothing
    behind (accounts/storage.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, StorageUnavailable):
            return None
        headers = {"Retry-After": "60"}
        if request.path.startswith(API_PREFIX):
            return APIError(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "The file store is not answering just now; nothing was changed. Try again in "
                "a minute.",
                headers=headers,
            ).response()
        response = render(
            request,
            "storage_unavailable.html",
            {"message": UNAVAILABLE_MESSAGE},
            status=HTTPStatus.SERVICE_UNAVAILABLE,
        )
        response["Retry-After"] = headers["Retry-After"]
        return response
