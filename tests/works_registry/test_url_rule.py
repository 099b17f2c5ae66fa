"""One rule for web addresses: registration, imports and lookups all go through it."""

import pytest
from django.core.exceptions import ValidationError

from works.identifiers import TRACKING_PARAMETERS, normalise, normalise_typed_url
from works.services import identifiers_parse

STORED = "https://example.com/gallery/piece?id=7"


@pytest.mark.parametrize(
    "typed",
    [
        "https://example.com/gallery/piece?id=7",
        "HTTPS://EXAMPLE.COM/gallery/piece?id=7",
        "https://example.com:443/gallery/piece?id=7",
        "https://example.com/gallery/piece?id=7#top",
        "https://example.com/gallery/piece?utm_source=feed&id=7&utm_medium=rss",
        "https://example.com/gallery/piece?id=7&fbclid=IwAR0abc",
        "https://example.com/gallery/piece?gclid=x1&id=7&mc_eid=42&mc_cid=9",
        "https://example.com/gallery/piece?UTM_Campaign=spring&id=7",
        "https://Example.com:443/gallery/piece?msclkid=1&id=7&_ga=2.1#frag",
    ],
)
def test_address_variants_normalise_to_the_stored_one(typed):
    assert normalise("url", typed) == STORED


def test_parameters_that_are_not_tracking_stay_in_order_and_as_written():
    typed = "https://example.com/a?b=2&utm_source=x&a=%20&ref=home&a=1"
    assert normalise("url", typed) == "https://example.com/a?b=2&a=%20&ref=home&a=1"


def test_an_address_with_only_tracking_parameters_loses_its_question_mark():
    assert (
        normalise("url", "https://example.com/a?utm_source=x&fbclid=y") == "https://example.com/a"
    )


def test_a_parameter_that_only_starts_like_a_tracking_one_is_kept():
    assert normalise("url", "https://example.com/a?gclid_note=1&utmost=2") == (
        "https://example.com/a?gclid_note=1&utmost=2"
    )


def test_the_tracking_list_is_one_constant_naming_the_well_known_ones():
    for name in ("fbclid", "gclid", "mc_eid", "msclkid"):
        assert name in TRACKING_PARAMETERS


@pytest.mark.parametrize(
    "typed, expected",
    [
        ("example.com", "https://example.com/"),
        ("Example.com/gallery/piece?id=7&utm_source=x", STORED),
        ("www.example.com/a#b", "https://www.example.com/a"),
        ("http://example.com/a", "http://example.com/a"),
    ],
)
def test_a_person_may_type_a_bare_domain(typed, expected):
    assert normalise_typed_url(typed) == expected


@pytest.mark.parametrize("typed", ["javascript:alert(1)", "ftp://example.com/x", "exa mple.com"])
def test_a_typed_address_is_still_refused_when_it_is_not_a_web_address(typed):
    with pytest.raises(ValidationError):
        normalise_typed_url(typed)


def test_the_work_form_and_imports_accept_bare_domains_and_drop_tracking():
    text = "example.com/gallery/piece?id=7&utm_source=x\nhttps://example.com/gallery/piece?id=7"
    assert identifiers_parse(scheme="url", text=text) == [STORED]
