"""A work's public page and its documents say, to every machine, what the creator decided.

Each signal is read back with an independent parser (``tests/consent/signal_parsers.py``: an
RFC 9651 library for ``Content-Usage``, ``json`` for the TDM policy and the C2PA assertion
(checked against the CAWG shape), an XML parser for RSL, an HTML parser for the ``<meta>``
tags) and compared with ``consent.decisions`` for "any developer", for every combination of the
creator's choices."""

import itertools
from datetime import date, timedelta
from http import HTTPStatus

import http_sf
import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from consent import decisions
from consent.models import CreditPreference, LicenceGrant, Preference
from consent.vocabulary import DEFAULTS
from tests import factories

from . import signal_parsers as read

USES = ["train-genai", "train-ai", "ai-input", "search", "style"]
CHOICES = ["allow", "deny", "licence"]
NOAI = "noai, noimageai"


@pytest.fixture
def work(creator):
    CreditPreference.objects.create(
        owner=creator,
        credit_line="© Alice Author 2019",
        licensing_contact="licensing@alice.example",
        terms_url="https://alice.example/terms",
    )
    return factories.WorkFactory(owner=creator, title="The Quiet Shore", kind="book")


def set_defaults(owner, combo: dict[str, str]) -> None:
    for use, choice in combo.items():
        Preference.objects.update_or_create(
            owner=owner, work=None, use=use, defaults={"choice": choice}
        )


def urls(work):
    return {
        "page": reverse("works:public", args=[work.public_id]),
        "policy": reverse("consent:tdm-policy", args=[work.public_id]),
        "licence": reverse("consent:licence", args=[work.public_id]),
        "c2pa": reverse("consent:c2pa-training-mining", args=[work.public_id]),
    }


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def check_signals(client, work) -> dict[str, str]:
    """Fetch the page, its policy and its licence; check each against the decisions."""
    expected = {u: d.choice for u, d in decisions.decisions_for_work(work).items()}
    paths = urls(work)
    reserved = any(expected[u] != "allow" for u in read.AI_USES)
    state = f"{expected} claim={work.claim_state}"

    page = client.get(paths["page"])
    assert page.status_code == HTTPStatus.OK
    headers = page.headers
    # Content-Usage: an RFC 9651 dictionary in aipref vocab-08: train-ai (training generative
    # models) from train-genai, ai-use from ai-input, and search; nothing else.
    assert read.content_usage(headers["Content-Usage"]) == {
        "train-ai": "y" if expected["train-genai"] == "allow" else "n",
        "ai-use": "y" if expected["ai-input"] == "allow" else "n",
        "search": "y" if expected["search"] == "allow" else "n",
    }, state
    # X-Robots-Tag only when training generative AI is not freely allowed.
    if expected["train-genai"] == "allow":
        assert "X-Robots-Tag" not in headers, state
    else:
        assert headers["X-Robots-Tag"] == NOAI, state
    # TDMRep: reserved when any AI use is not freely allowed; the policy named only then.
    assert headers["tdm-reservation"] == ("1" if reserved else "0"), state
    if reserved:
        assert headers["tdm-policy"] == absolute(paths["policy"]), state
    else:
        assert "tdm-policy" not in headers, state
    (link,) = read.link_header(headers["Link"])
    assert link == {
        "url": absolute(paths["licence"]),
        "rel": "license",
        "type": "application/rsl+xml",
    }
    assert read.sf_token(headers["Consent-Claim-State"]) == work.claim_state

    # The same in the page's <meta> tags.
    head = read.head_of(page.content.decode())
    if expected["train-genai"] == "allow":
        assert "robots" not in head.meta, state
    else:
        assert head.meta["robots"] == [NOAI], state
    assert head.meta["tdm-reservation"] == ["1" if reserved else "0"], state
    assert head.meta.get("tdm-policy") == ([absolute(paths["policy"])] if reserved else None)
    assert head.meta["consent-claim-state"] == [work.claim_state]
    assert {
        "rel": "license",
        "type": "application/rsl+xml",
        "href": absolute(paths["licence"]),
    } in (head.links)

    # The TDM policy (ODRL JSON-LD): one rule per use.
    response = client.get(paths["policy"])
    assert response["Content-Type"].startswith("application/ld+json")
    policy = read.load_json(response.content)
    assert policy["@type"] == "Offer"
    assert policy["profile"] == "http://www.w3.org/ns/tdmrep"
    assert policy["uid"] == absolute(paths["policy"])
    assert read.policy_choices(policy) == expected, state
    assert policy[f"{read.portal_ns()}claimState"] == work.claim_state

    # The RSL licence: ai-train is free only if both trainings are; licence → a paid offer.
    response = client.get(paths["licence"])
    assert response["Content-Type"].startswith("application/rsl+xml")
    licence = read.rsl(response.content)
    assert licence["url"] == paths["page"]
    assert licence["tokens"] == {
        "ai-train": read.stricter(expected["train-genai"], expected["train-ai"]),
        "ai-input": expected["ai-input"],
        "search": expected["search"],
    }, state
    for token, payment in licence["payments"].items():
        assert (
            payment["type"] == {"ai-train": "training", "ai-input": "use", "search": "crawl"}[token]
        )
    assert licence["decisions"] == expected
    assert licence["claim_state"] == work.claim_state

    # The C2PA assertion (CAWG training-mining 1.1): a use only under licence is constrained,
    # and says where the licence is.
    response = client.get(paths["c2pa"])
    assert response["Content-Type"] == "application/json; charset=utf-8"
    entries = read.c2pa_training_mining(response.content)
    assert {label: read.cawg_choice(entry) for label, entry in entries.items()} == {
        "cawg.ai_generative_training": expected["train-genai"],
        "cawg.ai_training": expected["train-ai"],
        "cawg.data_mining": expected["train-ai"],
        "cawg.ai_inference": expected["ai-input"],
    }, state
    for entry in entries.values():
        if entry["use"] == "constrained":
            assert entry["constraint_info"] == absolute(paths["licence"])
        else:
            assert "constraint_info" not in entry
    return expected


@pytest.mark.django_db
def test_every_combination_of_defaults_is_signalled_as_decided(client, creator, work):
    seen = set()
    for values in itertools.product(CHOICES, repeat=len(USES)):
        set_defaults(creator, dict(zip(USES, values, strict=True)))
        seen.add(tuple(check_signals(client, work).values()))
    # The train-ai implication folds some combinations together; every choice still appears.
    assert len(seen) > 100


def test_a_works_override_shows_and_another_works_does_not(client, creator, work):
    other = factories.WorkFactory(owner=creator)
    set_defaults(creator, {"train-genai": "deny", "train-ai": "deny", "search": "allow"})
    Preference.objects.create(owner=creator, work=work, use="train-ai", choice="allow")
    Preference.objects.create(owner=creator, work=work, use="train-genai", choice="allow")
    Preference.objects.create(owner=creator, work=other, use="search", choice="deny")
    expected = check_signals(client, work)
    assert expected["train-genai"] == "allow" and expected["search"] == "allow"
    assert "X-Robots-Tag" not in client.get(urls(work)["page"]).headers
    assert check_signals(client, other)["search"] == "deny"


def test_a_grant_to_one_developer_never_opens_public_signals(client, creator, work):
    labs = factories.AIDeveloperFactory()
    grant = LicenceGrant.objects.create(
        owner=creator,
        developer=labs,
        all_works=True,
        uses=["train-ai", "ai-input", "style", "search"],
        licence_ref="LIC-7",
        starts_on=date.today() - timedelta(days=1),
    )
    assert decisions.decide(work, "train-genai", developer=labs).source == "grant"
    expected = check_signals(client, work)
    assert expected == {u: str(choice) for u, choice in DEFAULTS.items()}
    page = client.get(urls(work)["page"])
    assert read.content_usage(page["Content-Usage"]) == {
        "train-ai": "n",
        "ai-use": "n",
        "search": "y",
    }
    assert page["X-Robots-Tag"] == NOAI
    assert grant.licence_ref not in client.get(urls(work)["policy"]).content.decode()


def test_the_page_speaks_aipref_vocab_08_to_an_rfc_9651_parser(client, creator, work):
    """A client of draft-ietf-aipref-vocab-08 reads ``train-ai`` (generative training),
    ``ai-use`` (input to a model: retrieval, grounding) and ``search``; the -07 era label
    ``train-genai`` is never sent (a client would ignore it)."""
    set_defaults(creator, {"train-genai": "deny", "ai-input": "allow", "search": "allow"})
    value = client.get(urls(work)["page"])["Content-Usage"]
    parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    assert list(parsed) == ["train-ai", "ai-use", "search"]
    assert {key: (item, params) for key, (item, params) in parsed.items()} == {
        "train-ai": (http_sf.Token("n"), {}),
        "ai-use": (http_sf.Token("y"), {}),
        "search": (http_sf.Token("y"), {}),
    }
    assert "train-genai" not in value

    set_defaults(creator, {"ai-input": "licence"})  # only under licence is not a free yes
    value = client.get(urls(work)["page"])["Content-Usage"]
    assert http_sf.parse(value.encode("ascii"), tltype="dictionary")["ai-use"][0] == "n"


def test_header_names_are_sent_exactly_as_specified(client, work):
    response = client.get(urls(work)["page"])
    names = list(response.headers)
    for name in [
        "Content-Usage",
        "X-Robots-Tag",
        "tdm-reservation",
        "tdm-policy",
        "Link",
        "Consent-Claim-State",
    ]:
        assert name in names, f"{name} missing or not spelled canonically in {names}"
    assert "x-robots-tag" not in names and "content-usage" not in names
    # What the WSGI server is handed: the same spelling.
    assert ("X-Robots-Tag", NOAI) in list(response.items())


def test_a_change_shows_at_once_in_every_signal(client, creator, work):
    set_defaults(creator, {"train-genai": "deny", "train-ai": "deny"})
    before = client.get(urls(work)["page"])
    assert read.content_usage(before["Content-Usage"])["train-ai"] == "n"
    assert before["X-Robots-Tag"] == NOAI

    set_defaults(creator, {"train-genai": "allow", "train-ai": "allow"})
    after = client.get(urls(work)["page"])
    assert read.content_usage(after["Content-Usage"])["train-ai"] == "y"
    assert "X-Robots-Tag" not in after.headers
    assert read.rsl(client.get(urls(work)["licence"]).content)["tokens"]["ai-train"] == "allow"
    assert read.policy_choices(read.load_json(client.get(urls(work)["policy"]).content))[
        "train-genai"
    ] == ("allow")
    for response in (client.get(urls(work)["policy"]), client.get(urls(work)["licence"])):
        assert "no-cache" in response["Cache-Control"]


def test_an_archived_work_keeps_its_signals(client, creator, work):
    set_defaults(creator, {"ai-input": "licence"})
    work.status = "archived"
    work.save()
    assert check_signals(client, work)["ai-input"] == "licence"


@pytest.mark.parametrize("claim", ["self_declared", "verified", "rejected"])
def test_every_signal_carries_the_claim_state(client, work, claim):
    work.claim_state = claim
    work.claim_decided_at = None if claim == "self_declared" else timezone.now()
    work.save()
    check_signals(client, work)  # header, meta, policy and RSL each carry it
    page = client.get(urls(work)["page"]).content.decode()
    expected_words = {
        "self_declared": "self-declared",
        "verified": "has verified",
        "rejected": "was not confirmed",
    }[claim]
    assert expected_words in page


def test_the_page_says_in_plain_words_how_ai_may_use_the_work(client, creator, work):
    set_defaults(creator, {"style": "licence", "search": "deny"})
    page = client.get(urls(work)["page"]).content.decode()
    assert "How AI may use this work" in page
    for use, decision in decisions.decisions_for_work(work).items():
        assert decision.plain("book") in page, use
    assert "only under a licence, with payment and credit" in page


def test_the_licence_offers_a_paid_licence_through_their_contact_and_terms(client, creator, work):
    set_defaults(creator, {"train-genai": "licence", "train-ai": "licence", "search": "allow"})
    licence = read.rsl(client.get(urls(work)["licence"]).content)
    assert licence["tokens"] == {"ai-train": "licence", "ai-input": "deny", "search": "allow"}
    assert licence["payments"]["ai-train"] == {
        "type": "training",
        "custom": "mailto:licensing@alice.example",
        "standard": "https://alice.example/terms",
    }
    assert licence["holder"] == "Alice Author"
    assert licence["credit_line"] == "© Alice Author 2019"
    assert licence["holder_attrs"]["contactEmail"] == "licensing@alice.example"
    policy = read.load_json(client.get(urls(work)["policy"]).content)
    assert policy["assigner"]["vcard:fn"] == "Alice Author"
    assert policy["assigner"]["vcard:hasEmail"] == "mailto:licensing@alice.example"


def test_their_words_are_escaped_in_every_signal(client, creator, work):
    CreditPreference.objects.filter(owner=creator).update(
        credit_line='© <script>alert("x")</script> & Co',
        licensing_contact="https://alice.example/licensing?a=1&b=<2>",
    )
    work.title = '"><meta name="robots" content="all">'
    work.save()
    set_defaults(creator, {"train-ai": "licence", "train-genai": "licence"})
    page = client.get(urls(work)["page"]).content.decode()
    assert '<meta name="robots" content="all">' not in page
    assert read.head_of(page).meta["robots"] == [NOAI]
    licence = read.rsl(client.get(urls(work)["licence"]).content)  # still well-formed XML
    assert licence["credit_line"] == '© <script>alert("x")</script> & Co'
    assert licence["payments"]["ai-train"]["custom"] == "https://alice.example/licensing?a=1&b=<2>"
    policy = read.load_json(client.get(urls(work)["policy"]).content)
    assert policy[f"{read.portal_ns()}creditLine"] == '© <script>alert("x")</script> & Co'


def test_pages_without_a_work_carry_no_work_signals(client, db):
    response = client.get(reverse("portal:home"))
    assert "Content-Usage" not in response.headers
    assert "tdm-reservation" not in response.headers
