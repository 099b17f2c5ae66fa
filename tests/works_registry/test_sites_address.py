"""The rule for a site's address (works_registry/sites.py): what a person types becomes the home
page to fetch and the (host, path) sites are matched by — or a clear refusal."""

import pytest
from django.core.exceptions import ValidationError

from works_registry.sites import covers, site_address, url_key

# 151 characters typed, 463 in punycode: more than a domain name may have (253).
LONG_HOST = ".".join(["网络作者的主页和作品集"] * 12) + ".example"


@pytest.mark.parametrize(
    ("typed", "url", "host", "path"),
    [
        ("https://ada.example/", "https://ada.example/", "ada.example", ""),
        ("ada.example", "https://ada.example/", "ada.example", ""),
        ("  HTTPS://WWW.Ada.Example  ", "https://www.ada.example/", "ada.example", ""),
        ("http://ada.example/art/", "http://ada.example/art", "ada.example", "/art"),
        ("https://host.example/ada//", "https://host.example/ada", "host.example", "/ada"),
        ("https://ada.example:443/Art", "https://ada.example/Art", "ada.example", "/Art"),
        ("https://ada.example:8443/", "https://ada.example:8443/", "ada.example:8443", ""),
        ("https://bücher.example/", "https://xn--bcher-kva.example/", "xn--bcher-kva.example", ""),
        ("https://ada.example./x", "https://ada.example/x", "ada.example", "/x"),
        ("https://www.example/", "https://www.example/", "www.example", ""),  # not folded
    ],
)
def test_addresses_are_normalised(typed, url, host, path):
    address = site_address(typed)
    assert (address.url, address.host, address.path) == (url, host, path)


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("", "Enter your site's address"),
        ("ftp://ada.example/", "http:// or https://"),
        ("https://ada:secret@ada.example/", "user name or password"),
        ("https://ada.example/?page=1", "no “?…” or “#…” part"),
        ("https://ada.example/#top", "no “?…” or “#…” part"),
        ("https://93.184.215.14/", "not by an IP address"),
        ("https://[2606:4700::1111]/", "not by an IP address"),
        ("https://localhost/", "private name"),
        ("https://intranet/", "private name"),
        ("https://printer.local/", "private name"),
        ("https://wiki.corp/", "private name"),
        ("https://nas.home.arpa/", "private name"),
        ("https://1.0.0.127.in-addr.arpa/", "private name"),
        ("https://ada.example/" + "a" * 600, "at most 500 characters"),
        (f"https://{LONG_HOST}/", "too long to be a domain"),
        ("https://ada.example/a/../b", "/./ or /../"),
        ("https://ada.example/.well-known/x", "under /.well-known/"),
        ("https://ada .example/", "spaces"),
    ],
)
def test_what_cannot_be_a_site_is_refused_with_a_clear_message(typed, words):
    with pytest.raises(ValidationError) as caught:
        site_address(typed)
    assert words in caught.value.messages[0]


def test_localhost_is_a_site_only_where_checks_may_reach_this_machine(settings):
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = True  # the tests and the demo
    assert site_address("http://localhost:8123/").host == "localhost:8123"
    settings.NOTICES_WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError, match="private name"):
        site_address("http://localhost:8123/")


def test_the_message_never_repeats_html_typed_into_it():
    with pytest.raises(ValidationError) as caught:
        site_address('https://ada.example/<script>alert("x")</script>')
    assert "<script>" not in " ".join(caught.value.messages)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://www.ada.example/art/x?y=1", ("ada.example", "/art/x")),
        ("http://ada.example/", ("ada.example", "")),
        ("https://ada.example:8443/a/", ("ada.example:8443", "/a")),
    ],
)
def test_url_keys(url, key):
    assert url_key(url) == key


def test_covers():
    assert covers("", "") and covers("", "/anything")
    assert covers("/art", "/art") and covers("/art", "/art/x/y")
    assert not covers("/art", "/artificial") and not covers("/art", "") and not covers("/a/b", "/a")
