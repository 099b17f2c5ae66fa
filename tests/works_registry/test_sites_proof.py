"""Proving control of a site against a real HTTP server on loopback (``SiteServer``): the token
as a file at /.well-known/creator-consent.txt, as a meta tag on the home page, a wrong token, a
server that hangs, redirects (followed, and refused towards private addresses), and the guard
refusing loopback itself when the tests' loophole is off — before any connection."""

import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from works_registry.models import new_site_token
from works_registry.sites_proof import MAX_PAGE_BYTES, WELL_KNOWN_PATH, meta_tokens, prove


@dataclass
class Page:
    """What the server answers for one path: ``hang`` seconds of silence first (the server
    stops waiting when the test ends)."""

    body: bytes | str = b""
    status: int = 200
    headers: dict = field(default_factory=dict)
    hang: float = 0


class SiteServer:
    """A creator's site on 127.0.0.1 (plain http; reached as ``localhost``): answers each path
    from ``pages`` (404 otherwise) and records every request as ``(path, Host header)``."""

    def __init__(self):
        self.pages: dict[str, Page] = {}
        self.requests: list[tuple[str, str]] = []
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server.requests.append((self.path, self.headers.get("Host", "")))
                page = server.pages.get(self.path.split("?", 1)[0], Page(b"no such page", 404))
                if page.hang and server.stopping.wait(page.hang):
                    return
                body = page.body.encode() if isinstance(page.body, str) else page.body
                try:
                    self.send_response(page.status, HTTPStatus(page.status).phrase)
                    for name, value in {"Content-Length": len(body), **page.headers}.items():
                        self.send_header(name, str(value))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://localhost:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def publish_file(self, *tokens: str) -> None:
        self.pages[WELL_KNOWN_PATH] = Page(
            "\n".join(tokens) + "\n", headers={"Content-Type": "text/plain"}
        )

    def publish_meta(self, token: str, path: str = "/") -> None:
        self.pages[path] = Page(
            "<!doctype html><html><head><title>Ada</title>"
            f'<META Name="Creator-Consent" content="{token}"></head><body>Hi</body></html>',
            headers={"Content-Type": "text/html; charset=utf-8"},
        )

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serving(settings):
    """A site on loopback, which the checks may reach only because the tests allow it
    (``NOTICES_WEBHOOK_ALLOW_LOOPBACK``). Other modules' ``site_server`` fixtures use it."""
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True
    settings.SITES_CHECK_TIMEOUT = 5.0  # generous: the machine may be busy
    server = SiteServer()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def site_server(settings):
    with serving(settings) as server:
        yield server


@pytest.fixture
def token():
    return new_site_token()


def test_the_token_in_the_well_known_file_proves_control(site_server, token):
    site_server.publish_file("creator-consent-someone-elses", token)
    proof = prove(site_server.url + "/", token)
    assert proof.ok and proof.method == "file"
    assert WELL_KNOWN_PATH in proof.message
    path, host = site_server.requests[0]
    assert path == WELL_KNOWN_PATH and host == f"localhost:{site_server.port}"


def test_the_token_in_a_meta_tag_of_the_home_page_proves_control(site_server, token):
    site_server.publish_meta(token, "/ada")
    proof = prove(site_server.url + "/ada", token)
    assert proof.ok and proof.method == "meta"
    assert [path for path, _ in site_server.requests] == [WELL_KNOWN_PATH, "/ada"]


def test_a_wrong_token_proves_nothing_and_says_where_it_looked(site_server, token):
    site_server.publish_file(new_site_token())
    site_server.publish_meta(new_site_token())
    proof = prove(site_server.url + "/", token)
    assert not proof.ok and proof.method == ""
    assert "does not contain this site's token" in proof.message
    assert "no creator-consent meta tag with this site's token" in proof.message


def test_the_token_must_be_a_whole_word_not_part_of_one(site_server, token):
    site_server.publish_file(token + "x")
    site_server.pages["/"] = Page(f"<html><body>{token}</body></html>")  # not in a meta tag
    assert not prove(site_server.url + "/", token).ok


def test_a_missing_file_and_page_are_reported_with_their_status(site_server, token):
    proof = prove(site_server.url + "/", token)
    assert not proof.ok
    assert "answered HTTP 404" in proof.message


def test_a_server_that_hangs_is_given_up_after_the_timeout(site_server, settings, token):
    settings.SITES_CHECK_TIMEOUT = 0.5
    site_server.pages[WELL_KNOWN_PATH] = Page(token, hang=30)
    site_server.pages["/"] = Page(token, hang=30)
    started = time.monotonic()
    proof = prove(site_server.url + "/", token)
    assert time.monotonic() - started < 5  # two requests, half a second each, not 60 s
    assert not proof.ok
    assert proof.message.count("Timed out") == 2


def test_redirects_are_followed_a_few_times(site_server, token):
    site_server.pages[WELL_KNOWN_PATH] = Page(status=301, headers={"Location": "/moved.txt"})
    site_server.pages["/moved.txt"] = Page(status=302, headers={"Location": "/again.txt"})
    site_server.pages["/again.txt"] = Page(token)
    assert prove(site_server.url + "/", token).ok

    loop = {"Location": WELL_KNOWN_PATH}
    site_server.pages[WELL_KNOWN_PATH] = Page(status=302, headers=loop)
    proof = prove(site_server.url + "/", token)
    assert not proof.ok and "more than 3 redirects" in proof.message


@pytest.mark.parametrize(
    "target",
    [
        "http://10.20.30.40/.well-known/creator-consent.txt",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:192.168.1.1]/",
        "https://192.168.0.10/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(site_server, token, target):
    site_server.pages[WELL_KNOWN_PATH] = Page(status=302, headers={"Location": target})
    site_server.pages["/"] = Page(status=307, headers={"Location": target})
    proof = prove(site_server.url + "/", token)
    assert not proof.ok
    assert proof.message.count("is not a public address") == 2, proof.message


def test_loopback_is_refused_when_the_tests_loophole_is_off(site_server, settings, token):
    site_server.publish_file(token)
    site_server.publish_meta(token)
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    proof = prove(site_server.url + "/", token)
    assert not proof.ok
    assert "Refused site address localhost: 127.0.0.1 is not a public address" in proof.message
    assert site_server.requests == []  # refused before any connection


def test_the_home_page_is_read_only_so_far(site_server, token):
    filler = "<!-- " + "x" * MAX_PAGE_BYTES + " -->"
    site_server.pages["/"] = Page(
        f"<html><head>{filler}<meta name='creator-consent' content='{token}'></head></html>"
    )
    proof = prove(site_server.url + "/", token)
    assert not proof.ok and "no creator-consent meta tag" in proof.message


def test_meta_tags_are_read_by_the_html_parser():
    html = """<html><head>
      <meta name="description" content="creator-consent-aaa">
      <meta name=creator-consent content="creator-consent-bbb creator-consent-ccc">
      <meta name="CREATOR-CONSENT" content="creator-consent-ddd"/>
      <!-- <meta name="creator-consent" content="creator-consent-eee"> -->
      <script>var x = '<meta name="creator-consent" content="creator-consent-fff">';</script>
    </head></html>"""
    assert meta_tokens(html) == {
        "creator-consent-bbb",
        "creator-consent-ccc",
        "creator-consent-ddd",
    }
