"""What a browser gets from a private download: the bytes streamed by the portal (the folder),
or — on the bucket — a redirect to a short-lived signed link, followed here as a browser
would follow it."""

import urllib.request
from dataclasses import dataclass
from http import HTTPStatus


@dataclass
class Download:
    body: bytes
    content_type: str
    disposition: str


def downloaded(response) -> Download:
    """The file a browser ends up with, whichever way the portal served it."""
    if response.status_code == HTTPStatus.FOUND and response["Location"].startswith("http"):
        assert response["Cache-Control"] == "no-store"  # the link is personal
        with urllib.request.urlopen(response["Location"], timeout=10) as answer:
            return Download(
                answer.read(),
                answer.headers["Content-Type"],
                answer.headers["Content-Disposition"],
            )
    assert response.status_code == HTTPStatus.OK, response.status_code
    assert response["X-Content-Type-Options"] == "nosniff"
    return Download(
        b"".join(response.streaming_content),
        response["Content-Type"],
        response["Content-Disposition"],
    )
