"""Site-wide signals — ``/robots.txt``, ``/ai.txt``, ``/.well-known/tdmrep.json`` and its default
policy — and the snippets a creator copies to her own website (from her defaults)."""

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
    contact_uri,
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


def robots_txt() -> str:
    """``/robots.txt``: AI crawlers may fetch the work pages (that is where each work's own
    preferences are), nothing private; one ``Content-Usage`` default for ``/w/``, the built-in
    one, in every group (a group's rules apply only to the crawlers it names)."""
    default = content_usage(DEFAULTS)
    crawlers = _unique(AI_CRAWLERS + registered_crawlers())
    lines = [
        f"# {settings.SITE_NAME}",
        "# Each work's page /w/<id>/ states its creator's own preferences in its HTTP headers",
        "# (Content-Usage, X-Robots-Tag, tdm-reservation, tdm-policy, Link rel=license) and",
        "# <meta> tags; the Content-Usage line below is only the default until she chooses.",
        f"# Vocabulary: {AIPREF_VOCAB}; attachment: {AIPREF_ATTACH}.",
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
        f"Content-Usage: /w/ {default}",
        "",
        "User-agent: *",
    ]
    lines += [f"Disallow: {path}" for path in PRIVATE_PATHS]
    lines += [f"Content-Usage: /w/ {default}", ""]
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
}


def snippets_for(owner) -> dict[str, str]:
    """Copy-ready text for her own website, from her defaults (what her works get unless a work
    says otherwise), keyed as ``SNIPPET_LABELS``."""
    defaults = decisions_module.defaults_for(owner)
    choices = {use: d.choice for use, d in defaults.items()}
    credit = credit_of(owner)
    policy = ""  # TDMRep lets tdm-policy name a human-readable page: her terms, or her contact
    if credit:
        contact = contact_uri(credit.licensing_contact)
        policy = credit.terms_url or (contact if contact.startswith("http") else "")
    reserved = tdm_reserved(choices)
    genai_allowed = choices["train-genai"] == Choice.ALLOW
    usage = content_usage(choices)

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
    robots = [f"User-agent: {token}" for token in AI_CRAWLERS]
    robots += [crawl_rule, f"Content-Usage: {usage}", "", "User-agent: *", "Allow: /"]
    robots += [f"Content-Usage: {usage}"]

    rule = {"location": "/*", "tdm-reservation": 1 if reserved else 0}
    if reserved and policy:
        rule["tdm-policy"] = policy

    ai_txt_lines = [
        "# ai.txt (Spawning's convention for AI training)",
        "User-Agent: *",
        "Allow: /" if genai_allowed else "Disallow: /",
    ]
    return {
        "headers": "\n".join(headers),
        "meta": "\n".join(str(m) for m in meta),
        "robots": "\n".join(robots),
        "tdmrep": json.dumps([rule], indent=2),
        "ai_txt": "\n".join(ai_txt_lines),
    }
