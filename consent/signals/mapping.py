"""The ONE mapping from our consent vocabulary to every machine-readable standard.

Every signal is computed here, from ``consent.decisions`` for "any developer" (``developer=None``:
a licence grant to one developer never opens a public signal), at the moment it is asked for —
nothing is cached, so a change shows in every signal at once. Every per-work signal carries the
work's claim state (``self_declared``, ``verified`` or ``rejected``).

Versions followed (pinned; each moves, so a new version is a deliberate change here):

* **IETF AI Preferences vocabulary, draft-ietf-aipref-vocab-07** (19 August 2026): we use its two
  categories ``train-ai`` (set from our ``train-genai``) and ``search``, each ``y`` or ``n``; a
  category left out means "unknown". Our ``ai-input`` and ``style`` have no category in -07.
* **draft-ietf-aipref-attach-05** (18 August 2026): the ``Content-Usage`` HTTP response field, an
  RFC 9651 Dictionary whose values are tokens (``Content-Usage: train-ai=n, search=y``), and the
  robots.txt rule ``Content-Usage: [path] <preferences>`` inside a ``User-agent`` group.
  Preferences apply only to paths a crawler may fetch, so robots.txt never disallows ``/w/``.
* **W3C TDMRep, Final Community Group Report of 10 May 2024**: the ``tdm-reservation`` (``1``
  reserved, ``0`` not) and ``tdm-policy`` response fields and ``<meta>`` names, the
  ``/.well-known/tdmrep.json`` rules (``location`` / ``tdm-reservation`` / ``tdm-policy``), and the
  TDM policy: an ODRL 2.2 ``Offer`` in JSON-LD with ``profile`` ``http://www.w3.org/ns/tdmrep``,
  one ``assigner`` described with vCard, ``tdm:mine`` permissions and the duties
  ``obtainConsent`` and ``compensate``. Response fields override the well-known file, so a work
  whose creator reserves nothing sends ``tdm-reservation: 0``.
* **RSL 1.0** (rslstandard.org, Recommendation of 10 December 2025): ``<rsl>`` in the default
  namespace ``https://rslstandard.org/rsl``, served as ``application/rsl+xml`` and associated
  with the page by ``Link: <…>; rel="license"; type="application/rsl+xml"`` (and the same
  ``<link>`` in the page's head); usage tokens ``ai-train``, ``ai-input`` and ``search``;
  ``<payment>`` types ``training``, ``use``, ``crawl`` and ``attribution``. Several ``<license>``
  elements in one ``<content>`` are alternative offers. Elements in other namespaces (our
  ``portal:`` extension: claim state and every decision, ``style`` included) are ignored by RSL
  clients.
* ``X-Robots-Tag: noai, noimageai`` and the matching ``robots`` meta tag: a de-facto convention
  (DeviantArt, 2022; Spawning), not a standard — sent when ``train-genai`` is not allowed.
* ``ai.txt``: Spawning's robots.txt-like file for AI training (``User-Agent`` / ``Allow`` /
  ``Disallow``).

The mapping (see docs/signals.md for the table and the reasons):

* ``train-genai`` → aipref ``train-ai``, ``X-Robots-Tag``, RSL ``ai-train``, TDM reservation;
* ``train-ai`` → RSL ``ai-train`` too: RSL ``ai-train`` is the stricter of the two;
* ``ai-input`` → RSL ``ai-input``; ``search`` → aipref ``search`` and RSL ``search``;
* ``style`` → no standard token: an ODRL rule with the portal's own action, the RSL extension,
  and the page's words;
* ``licence`` is not a free "allow": aipref ``n``, TDM reserved (the policy's permission carries
  ``obtainConsent`` and ``compensate``), RSL prohibited in the free licence and offered in a
  paid ``<license>`` with a ``<payment>``.
"""

import re

from django.conf import settings

from ..vocabulary import AI_USES, STRICTNESS, Choice

AIPREF_VOCAB = "draft-ietf-aipref-vocab-07"
AIPREF_ATTACH = "draft-ietf-aipref-attach-05"
TDMREP_VERSION = "W3C TDMRep Final Community Group Report, 10 May 2024"
RSL_VERSION = "RSL 1.0"

RSL_NS = "https://rslstandard.org/rsl"
RSL_MEDIA_TYPE = "application/rsl+xml"
TDMREP_PROFILE = "http://www.w3.org/ns/tdmrep"
TDM_CONTEXT = ["http://www.w3.org/ns/odrl.jsonld", "http://www.w3.org/ns/tdmrep.jsonld"]
NOAI = "noai, noimageai"

# Header names exactly as each specification spells them: some clients compare names
# case-sensitively, so "x-robots-tag" would be missed where "X-Robots-Tag" is read.
H_CONTENT_USAGE = "Content-Usage"
H_ROBOTS = "X-Robots-Tag"
H_TDM_RESERVATION = "tdm-reservation"
H_TDM_POLICY = "tdm-policy"
H_LINK = "Link"
H_CLAIM = "Consent-Claim-State"  # the portal's own field: an RFC 9651 token

# Our use → IETF aipref category (vocab-07 has these two only).
AIPREF_CATEGORY = {"train-genai": "train-ai", "search": "search"}
# RSL usage token → our uses it stands for (the stricter choice wins when there are two).
RSL_TOKENS = {
    "ai-train": ("train-genai", "train-ai"),
    "ai-input": ("ai-input",),
    "search": ("search",),
}
# What a paid licence for each RSL token is metered on (RSL 1.0 payment types).
RSL_PAYMENT = {"ai-train": "training", "ai-input": "use", "search": "crawl"}

# AI crawlers named in robots.txt (the product tokens their operators document), plus those of
# the AI developers in the portal's registry.
AI_CRAWLERS = [
    "GPTBot",
    "ClaudeBot",
    "Google-Extended",
    "Meta-ExternalAgent",
    "Applebot-Extended",
    "CCBot",
    "Bytespider",
]
PRODUCT_TOKEN = re.compile(r"^[A-Za-z_-]+$")  # RFC 9309 product token
# Paths crawlers have no business in (private areas behind sign-in).
PRIVATE_PATHS = [
    "/accounts/",
    "/works/",
    "/consent/",
    "/registry/",
    "/dashboard/",
    "/django-admin/",
]


def portal_ns() -> str:
    """The namespace of the portal's own terms (style, claim state) in ODRL and RSL."""
    return f"{settings.SITE_URL}/ns/consent#"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def strictest(*choices: str) -> str:
    return max(choices, key=lambda c: STRICTNESS[c])


def aipref_value(choice: str) -> str:
    """Only a free ``allow`` is ``y``: ``licence`` means "not without a licence"."""
    return "y" if choice == Choice.ALLOW else "n"


def content_usage(choices: dict[str, str]) -> str:
    """The ``Content-Usage`` value (an RFC 9651 Dictionary of tokens) for our choices per use."""
    return ", ".join(
        f"{category}={aipref_value(choices[use])}" for use, category in AIPREF_CATEGORY.items()
    )


def rsl_choices(choices: dict[str, str]) -> dict[str, str]:
    """Our choice per RSL usage token: ``ai-train`` is allowed only if both trainings are."""
    return {token: strictest(*(choices[u] for u in uses)) for token, uses in RSL_TOKENS.items()}


def tdm_reserved(choices: dict[str, str]) -> bool:
    """TDM rights are reserved when any AI use is not freely allowed."""
    return any(choices[use] != Choice.ALLOW for use in AI_USES)


def contact_uri(contact: str) -> str:
    """The licensing contact as a URI: ``mailto:`` for an address, the URL for a web page."""
    contact = (contact or "").strip()
    if re.match(r"^https?://", contact):
        return contact
    if re.fullmatch(r"[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+", contact):
        return f"mailto:{contact}"
    return ""
