"""The portal's JSON API under ``/api/v1/``: one django-ninja ``NinjaAPI`` that the apps' routers
plug into, and that generates the OpenAPI 3 document (``/api/v1/openapi.json``) and its docs
page (``/api/v1/docs``, Swagger UI from the portal's own static files).

django-ninja's defaults are overridden so that the contract of docs/api.md holds: errors are
``{"error": {"code", "message"[, "fields"]}}`` (400 ``invalid`` with ``fields``, never 422
``{"detail"}``), bodies are JSON objects sent as ``application/json``, the API key is checked by
``notices.api_base.APIKeyAuth``. What no view of the API sees — the address's rate limit, JSON
404 and 405, ``Cache-Control: no-store`` — is ``portal.middleware.APIMiddleware``'s.

To add a router: build it in its app (``router = Router(tags=[...])``, endpoints with a
``url_name``), and add it below with ``api.add_router("<prefix>", router)``. See docs/api.md.
"""

from http import HTTPStatus

from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.views.decorators.http import require_GET
from ninja import NinjaAPI, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError

from disclosures.api import router as disclosures_router
from notices.api import router as notices_router
from notices.api_base import (
    DEFAULT_MAX_BODY_BYTES,
    APIError,
    APIKeyAuth,
    JSONBodyParser,
    body_too_large,
    validation_error_fields,
)
from works_registry.api import router as works_registry_router
from works_registry.api import spawning_router
from works_registry.changes_api import router as works_registry_changes_router


def _api_error(request, exc: APIError):
    return exc.response()


def _invalid(request, exc: ValidationError):
    fields = validation_error_fields(exc.errors)
    where = "query" if any(e.get("loc", [""])[0] == "query" for e in exc.errors) else "body"
    message = "The query has invalid parameters." if where == "query" else "The body is invalid."
    return APIError(HTTPStatus.BAD_REQUEST, "invalid", message, fields=fields).response()


def _unauthenticated(request, exc):
    return APIError(HTTPStatus.UNAUTHORIZED, "invalid_key", "Not authenticated.").response()


def _not_found(request, exc):
    return APIError(HTTPStatus.NOT_FOUND, "not_found", "Nothing here.").response()


def _data_too_big(request, exc: RequestDataTooBig):
    """django-ninja reads ``request.body`` before the parser does: a body over Django's
    ``DATA_UPLOAD_MAX_MEMORY_SIZE`` is refused as the parser would have (415 for a body that is
    not JSON, else ``body_too_large``), never as Django's HTML 400."""
    if request.content_type != "application/json":
        return APIError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "Send the body as JSON, with “Content-Type: application/json”.",
        ).response()
    limit = getattr(request, "api_max_body_bytes", DEFAULT_MAX_BODY_BYTES)
    return body_too_large(limit).response()


def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, APIError):  # ninja wraps what the body parser raised
        return exc.__cause__.response()
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
    return APIError(exc.status_code, code, str(exc)).response()


class PortalAPI(NinjaAPI):
    """A ``NinjaAPI`` that speaks docs/api.md: the API key required unless an endpoint says
    ``auth=None``, JSON bodies by ``JSONBodyParser``, errors as ``APIError``s, the docs page
    from the portal's own static files (GET only). ``/api/v1`` is ``api`` below; another
    version (``/api/v2``) is one more ``PortalAPI(version="2", urls_namespace="api-v2")``."""

    def __init__(self, **kwargs):
        kwargs.setdefault("auth", APIKeyAuth())
        kwargs.setdefault("parser", JSONBodyParser())
        kwargs.setdefault("docs_decorator", require_GET)
        kwargs.setdefault(
            "docs", Swagger(settings={"validatorUrl": None, "persistAuthorization": False})
        )
        super().__init__(**kwargs)

    def set_default_exception_handlers(self) -> None:
        super().set_default_exception_handlers()
        self.add_exception_handler(APIError, _api_error)
        self.add_exception_handler(ValidationError, _invalid)
        self.add_exception_handler(AuthenticationError, _unauthenticated)
        self.add_exception_handler(Http404, _not_found)
        self.add_exception_handler(HttpError, _http_error)
        self.add_exception_handler(RequestDataTooBig, _data_too_big)

    def get_content_type(self) -> str:
        return "application/json"  # as JsonResponse says it; JSON is UTF-8 anyway


api = PortalAPI(
    title="Creator Consent Portal API",
    version="1",
    description=(
        "What creators want for their works, for AI developers' systems. Every call carries "
        "one of your organisation's API keys: `Authorization: Bearer <key>` (or `API <key>`). "
        'Errors are `{"error": {"code", "message", "fields"}}`. '
        "The rules (keys, errors, rate limits, caching, pagination): docs/api.md."
    ),
    urls_namespace="api-v1",
)

api.add_router("", notices_router)
api.add_router("", works_registry_router)
api.add_router("", works_registry_changes_router)
api.add_router("", disclosures_router)

# /api/v2/: the Spawning opt-out API v2, for pipelines that already speak it (docs/api.md).
api_v2 = PortalAPI(
    title="Creator Consent Portal API, Spawning-compatible",
    version="2",
    description=(
        "The Spawning opt-out API v2, answered from the portal's works registry: "
        "`POST /api/v2/query/urls/` with `Authorization: API <key>`. See docs/api.md."
    ),
    urls_namespace="api-v2",
)
api_v2.add_router("", spawning_router)
