"""Site-wide signals — ``/robots.txt``, ``/ai.txt``, ``/.well-known/tdmrep.json`` and its default
policy — and what a creator copies to their own website, and signs into their own files, from
their defaults."""

import json

from django.conf import settings
from django.urls import reverse
from django.utils.html import format_html

from notices.models import AIDeveloper

from .. import decisions as decisions_module
from ..vocabulary import DEFAULTS, Choice
from .mapping import (
    AI_CRAWLERS,
    AIPREF_ATTACH,
    AIPREF_VOCAB,
    CONTENT_SIGNALS_VERSION,
    H_CONTENT_USAGE,
    H_ROBOTS,
    H_TDM_POLICY,
    H_TDM_RESERVATION,
    NOAI,
    PRIVATE_PATHS,
    PRODUCT_TOKEN,
    TDM_CONTEXT,
    TDMREP_PROFILE,
    absolute,
    c2pa_manifest_definition,
    contact_uri,
    content_signal,
    content_usage,
    strictest,
    tdm_reserved,
)
from .work import credit_of


def default_tdm_policy() -> dict:
    """The policy ``/.well-known/tdmrep.json`` names for ``/w/*``: mining needs the creator's
    consent; each work's own policy (in its page's ``tdm-policy`` field) says more."""
    return {
        "@context": list(TDM_CONTEXT),
        "@type": "Offer",
        "profile": TDMREP_PROFILE,
        "uid": absolute(reverse("consent:tdm-policy-default")),
        "assigner": {"uid": settings.SITE_URL, "vcard:fn": settings.SITE_NAME},
        "permission": [
            {
                "target": absolute("/w/"),
                "action": "tdm:mine",
                "duty": [{"action": "obtainConsent"}],
            }
        ],
    }


def tdmrep_json() -> list:
    """``/.well-known/tdmrep.json``: the built-in default for every work page; each page's own
    ``tdm-reservation``/``tdm-policy`` fields override it (TDMRep: response fields win)."""
    return [
        {
            "location": "/w/*",
            "tdm-reservation": 1 if tdm_reserved(DEFAULTS) else 0,
            "tdm-policy": absolute(reverse("consent:tdm-policy-default")),
        }
    ]


# --- Site-wide files -----------------------------------------------------------------------------


def registered_crawlers() -> list[str]:
    """The product tokens of active AI developers in the registry (one query), valid ones only."""
    tokens: list[str] = []
    for text in AIDeveloper.objects.filter(is_active=True).values_list(
        "crawler_user_agents", flat=True
    ):
        for line in text.splitlines():
            token = line.strip()
            if PRODUCT_TOKEN.match(token):
                tokens.append(token)
    return tokens


def _unique(items) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        if item.lower() not in seen:
            seen.add(item.lower())
            out.append(item)
    return out


# The Content Signals Policy's definitions and the EU reservation, said in our own words.
CONTENT_SIGNALS_COMMENT = [
    f"# Content-Signal lines follow the {CONTENT_SIGNALS_VERSION}:",
    "#   search    building a search index and showing search results (links to a page and",
    "#             short excerpts of it); not AI-generated search summaries;",
    "#   ai-input  putting content into AI models as they run (retrieval-augmented generation,",
    "#             grounding, generated answers to searches);",
    "#   ai-train  training or fine-tuning AI models.",
    "# yes: the use is allowed. no: it is not. A use left out is neither allowed nor refused by",
    "# that line.",
    "# ANY RESTRICTION EXPRESSED BY THE CONTENT-SIGNAL AND CONTENT-USAGE LINES IN THIS FILE IS",
    "# AN EXPRESS RESERVATION OF RIGHTS UNDER ARTICLE 4 OF DIRECTIVE (EU) 2019/790 ON COPYRIGHT",
    "# AND RELATED RIGHTS IN THE DIGITAL SINGLE MARKET.",
]


def robots_txt() -> str:
    """``/robots.txt``: AI crawlers may fetch the work pages (that is where each work's own
    preferences are), nothing private; in every group (a group's rules apply only to the
    crawlers it names) one ``Content-Usage`` default for ``/w/`` and one ``Content-Signal``
    line, both from the built-in default."""
    usage = content_usage(DEFAULTS)
    signal = content_signal(DEFAULTS)
    crawlers = _unique(AI_CRAWLERS + registered_crawlers())
    lines = [
        f"# {settings.SITE_NAME}",
        "# Each work's page /w/<id>/ states its creator's own preferences in its HTTP headers",
        "# (Content-Usage, X-Robots-Tag, tdm-reservation, tdm-policy, Link rel=license) and",
        "# <meta> tags; the Content-Usage and Content-Signal lines below are only the default,",
        "# until the creator chooses.",
        f"# Content-Usage vocabulary: {AIPREF_VOCAB}; attachment: {AIPREF_ATTACH}.",
        *CONTENT_SIGNALS_COMMENT,
        "",
    ]
    lines += [f"User-agent: {token}" for token in crawlers]
    # Allow lines before the Disallow: the same answer from RFC 9309's longest match and from
    # first-match parsers (Python's urllib.robotparser among them).
    lines += [
        "Allow: /w/",
        "Allow: /.well-known/tdmrep.json",
        "Allow: /signals/",
        "Allow: /ai.txt",
        "Disallow: /",
        f"Content-Usage: /w/ {usage}",
        f"Content-Signal: {signal}",
        "",
        "User-agent: *",
    ]
    lines += [f"Disallow: {path}" for path in PRIVATE_PATHS]
    lines += [f"Content-Usage: /w/ {usage}", f"Content-Signal: {signal}", ""]
    return "\n".join(lines)


def ai_txt() -> str:
    """``/ai.txt`` (Spawning): the work pages' default for AI training, the built-in one."""
    rule = "Allow" if DEFAULTS["train-genai"] == Choice.ALLOW else "Disallow"
    return "\n".join(
        [
            f"# {settings.SITE_NAME} — ai.txt (Spawning's convention for AI training).",
            "# The default for every work page; each page's headers carry its creator's choice.",
            "User-Agent: *",
            f"{rule}: /w/",
            "",
        ]
    )


# --- Snippets for the creator's own website -------------------------------------------------------


SNIPPET_LABELS = {
    "headers": "HTTP response headers",
    "meta": "HTML <meta> tags (inside <head>)",
    "robots": "robots.txt groups",
    "tdmrep": "/.well-known/tdmrep.json",
    "ai_txt": "/ai.txt",
    "c2pa": "C2PA manifest definition for your files (cawg.training-mining)",
}


def _own_terms(credit) -> tuple[str, str]:
    """``(TDM policy page, where to obtain a licence)`` on the creator's own site: their terms
    page, or their licensing contact (a web page can be a TDM policy; an address cannot)."""
    if credit is None:
        return "", ""
    contact = contact_uri(credit.licensing_contact)
    policy = credit.terms_url or (contact if contact.startswith("http") else "")
    return policy, credit.terms_url or contact


def c2pa_for_owner(owner) -> dict:
    """The C2PA manifest definition (``cawg.training-mining``) for the creator's own files, from
    their defaults; a ``constrained`` entry names their terms or licensing contact."""
    choices = {use: d.choice for use, d in decisions_module.defaults_for(owner).items()}
    _, licence_from = _own_terms(credit_of(owner))
    return c2pa_manifest_definition(choices, constraint_info=licence_from)


def snippets_for(owner) -> dict[str, str]:
    """Copy-ready text for the creator's own website and files, from their defaults (what their
    works get unless a work says otherwise), keyed as ``SNIPPET_LABELS``."""
    defaults = decisions_module.defaults_for(owner)
    choices = {use: d.choice for use, d in defaults.items()}
    credit = credit_of(owner)
    # TDMRep lets tdm-policy name a human-readable page: their terms, or their contact page.
    policy, licence_from = _own_terms(credit)
    reserved = tdm_reserved(choices)
    genai_allowed = choices["train-genai"] == Choice.ALLOW
    usage = content_usage(choices)
    signal = content_signal(choices)

    headers = [f"{H_CONTENT_USAGE}: {usage}"]
    meta = []
    if not genai_allowed:
        headers.append(f"{H_ROBOTS}: {NOAI}")
        meta.append(format_html('<meta name="robots" content="{}">', NOAI))
    headers.append(f"{H_TDM_RESERVATION}: {1 if reserved else 0}")
    meta.append(format_html('<meta name="tdm-reservation" content="{}">', 1 if reserved else 0))
    if reserved and policy:
        headers.append(f"{H_TDM_POLICY}: {policy}")
        meta.append(format_html('<meta name="tdm-policy" content="{}">', policy))

    training = strictest(choices["train-genai"], choices["train-ai"])
    crawl_rule = "Allow: /" if training == Choice.ALLOW else "Disallow: /"
    robots = list(CONTENT_SIGNALS_COMMENT) + [""]
    robots += [f"User-agent: {token}" for token in AI_CRAWLERS]
    robots += [crawl_rule, f"Content-Usage: {usage}", f"Content-Signal: {signal}", ""]
    robots += ["User-agent: *", "Allow: /", f"Content-Usage: {usage}", f"Content-Signal: {signal}"]

    rule = {"location": "/*", "tdm-reservation": 1 if reserved else 0}
    if reserved and policy:
        rule["tdm-policy"] = policy

    ai_txt_lines = [
        "# ai.txt (Spawning's convention for AI training)",
        "User-Agent: *",
        "Allow: /" if genai_allowed else "Disallow: /",
    ]
    c2pa = c2pa_manifest_definition(choices, constraint_info=licence_from)
    return {
        "headers": "\n".join(headers),
        "meta": "\n".join(str(m) for m in meta),
        "robots": "\n".join(robots),
        "tdmrep": json.dumps([rule], indent=2),
        "ai_txt": "\n".join(ai_txt_lines),
        "c2pa": json.dumps(c2pa, indent=2, ensure_ascii=False),
    }
