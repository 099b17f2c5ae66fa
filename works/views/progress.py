"""Forms sent by ``static/js/upload.js`` (XMLHttpRequest, to show the upload's progress).

XMLHttpRequest follows a redirect by itself, which would read the next page's one-time
messages ("“…” is registered.") before the browser shows it. A request that says it comes from
upload.js (``X-Upload-Progress: 1``) therefore gets, instead of a redirect, an empty answer
naming where to go (``X-Upload-Redirect``), and the script navigates there. Any other answer (a
page with errors, "too many uploads") is returned as it is, for the script to show.
"""

from functools import wraps

from django.http import HttpResponse

HEADER = "X-Upload-Progress"
REDIRECT_HEADER = "X-Upload-Redirect"


def upload_redirects(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if request.headers.get(HEADER) == "1" and response.status_code in (301, 302, 303, 307, 308):
            answer = HttpResponse(status=200)
            answer[REDIRECT_HEADER] = response["Location"]
            for cookie in response.cookies.values():  # the messages' cookie, a new session
                answer.cookies[cookie.key] = cookie
            return answer
        return response

    return wrapper
