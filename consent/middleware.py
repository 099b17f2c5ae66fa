"""Copies a work page's AI-signal header fields onto its response.

The public work page belongs to ``works``, which may not import ``consent``; its template calls
``{% work_ai_signals work %}`` (``consent.templatetags.consent_signals``), which computes the
signals once and leaves the header fields on ``request.ai_signal_headers``. This middleware sets
them, names spelled exactly as computed (``X-Robots-Tag``, ``Content-Usage``…). Responses whose
template did not call the tag are left alone.
"""

from . import page_cache


class PublicWorkPageCacheMiddleware:
    """Serves an anonymous reader the public page of a work from ``consent.page_cache`` when its
    version is unchanged, and stores it otherwise (see that module: it cannot go stale). Placed
    just before ``AISignalHeadersMiddleware``, which sets the cached signal headers again."""

    VIEW = "works:public"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        key = getattr(request, "_public_page_key", None)
        if key is not None and not getattr(request, "_public_page_hit", False):
            page_cache.put(key, response, getattr(request, "ai_signal_headers", None) or {})
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            match is None
            or match.view_name != self.VIEW
            or not page_cache.cacheable_request(request)
        ):
            return None
        version = page_cache.page_version(view_kwargs["public_id"])
        if version is None:
            return None  # the view answers 404
        key = f"{view_kwargs['public_id']}:{version}"
        request._public_page_key = key
        cached = page_cache.get(key)
        if cached is None:
            return None
        request._public_page_hit = True
        request.ai_signal_headers = cached[2]
        return page_cache.hit_response(cached)


class AISignalHeadersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        headers = getattr(request, "ai_signal_headers", None)
        if headers:
            for name, value in headers.items():
                if name == "Link" and response.has_header("Link"):
                    value = f"{response.headers['Link']}, {value}"
                response.headers[name] = value
        return response
