"""The ONE mapping from our consent vocabulary to every machine-readable standard.

Every signal is computed here, from ``consent.decisions`` for "any developer" (``developer=None``:
a licence grant to one developer never opens a public signal), at the moment it is asked for —
nothing is cached, so a change shows in every signal at once. Every per-work signal carries the
work's claim state (``self_declared``, ``verified`` or ``rejected``), except the C2PA assertion
a creator puts in their own files (see below).

Versions followed (pinned; each moves, so a new version is a deliberate change here):

* **IETF AI Preferences vocabulary, draft-ietf-aipref-vocab-08** (14 September 2026): three
  categories, each ``y`` or ``n`` — ``train-ai`` (training *generative* models; set from our
  ``train-genai``), ``ai-use`` (using content as input to a generative model that the user did
  not supply directly: retrieval, grounding; set from our ``ai-input``) and ``search``. A
  category left out means "unknown"; a client ignores labels it does not know, so the -07 era
  ``train-genai`` is never sent. Our ``train-ai`` (any model, non-generative too) and ``style``
  have no category in -08.
* **draft-ietf-aipref-attach-05** (18 August 2026): the ``Content-Usage`` HTTP response field, an
  RFC 9651 Dictionary whose values are tokens (``Content-Usage: train-ai=n, ai-use=n,
  search=y``), and the robots.txt rule ``Content-Usage: [path] <preferences>`` inside a
  ``User-agent`` group. Preferences apply only to paths a crawler may fetch, so robots.txt never
  disallows ``/w/``.
* **Cloudflare Content Signals Policy** (CC0, September 2025, as deployed in managed robots.txt
  files): the robots.txt line ``Content-Signal: search=yes, ai-input=no, ai-train=no`` inside a
  ``User-agent`` group (values ``yes``/``no``; a signal left out neither grants nor restricts),
  under a comment block that defines the three signals and states that a restriction is an
  express reservation of rights under Article 4 of Directive (EU) 2019/790. ``ai-train`` is
  "training or fine-tuning AI models" — any model — so it takes the stricter of our
  ``train-genai`` and ``train-ai``; ``ai-input`` is our ``ai-input``; ``search`` our ``search``.
* **CAWG Training and Data Mining Assertion 1.1** (DIF Creator Assertions Working Group, final
  6 May 2025): the assertion labelled ``cawg.training-mining``, data ``{"entries": {<entry>:
  {"use": "allowed" | "notAllowed" | "constrained", "constraint_info": <text>}}}`` with the
  entries ``cawg.ai_generative_training`` (from our ``train-genai``), ``cawg.ai_training`` and
  ``cawg.data_mining`` (from our ``train-ai``) and ``cawg.ai_inference`` (from ``ai-input``);
  readers treat ``constrained`` as ``notAllowed`` unless they obtain permission. Offered as a
  C2PA manifest definition (``{"assertions": [{"label", "data"}]}``, what the C2PA SDKs and
  ``c2patool`` take) for the creator to sign into their own files.
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

* ``train-genai`` → aipref ``train-ai``, ``X-Robots-Tag``, RSL ``ai-train``, Content Signals
  ``ai-train``, CAWG ``cawg.ai_generative_training``, TDM reservation;
* ``train-ai`` → RSL ``ai-train`` and Content Signals ``ai-train`` too (each is the stricter of
  the two trainings), CAWG ``cawg.ai_training`` and ``cawg.data_mining``;
* ``ai-input`` → aipref ``ai-use``, RSL ``ai-input``, Content Signals ``ai-input``, CAWG
  ``cawg.ai_inference``; ``search`` → aipref, RSL and Content Signals ``search``;
* ``style`` → no standard token: an ODRL rule with the portal's own action, the RSL extension,
  and the page's words;
* ``licence`` is not a free "allow": aipref ``n``, Content Signals ``no``, CAWG ``constrained``
  (its ``constraint_info`` the work's RSL licence), TDM reserved (the policy's permission carries
  ``obtainConsent`` and ``compensate``), RSL prohibited in the free licence and offered in a
  paid ``<license>`` with a ``<payment>``.

``public_signals`` is what the registry API's answers carry for a work: the same for every
caller, from its public decisions.
"""

import re
from functools import lru_cache

from django.conf import settings

from ..vocabulary import AI_USES, STRICTNESS, USES, Choice

AIPREF_VOCAB = "draft-ietf-aipref-vocab-08"
AIPREF_ATTACH = "draft-ietf-aipref-attach-05"
CONTENT_SIGNALS_VERSION = "Cloudflare Content Signals Policy (CC0, September 2025)"
CAWG_VERSION = "CAWG Training and Data Mining Assertion 1.1"
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

# Our use → IETF aipref category (vocab-08 has these three only), in the order sent.
AIPREF_CATEGORY = {"train-genai": "train-ai", "ai-input": "ai-use", "search": "search"}
# Cloudflare content signal → our uses it stands for (the stricter choice wins), in the order
# Cloudflare writes them.
CONTENT_SIGNAL = {
    "search": ("search",),
    "ai-input": ("ai-input",),
    "ai-train": ("train-genai", "train-ai"),
}
# CAWG training-mining entry → our use; and how each choice reads there.
CAWG_LABEL = "cawg.training-mining"
CAWG_ENTRIES = {
    "cawg.ai_generative_training": "train-genai",
    "cawg.ai_training": "train-ai",
    "cawg.data_mining": "train-ai",
    "cawg.ai_inference": "ai-input",
}
CAWG_USE = {Choice.ALLOW: "allowed", Choice.DENY: "notAllowed", Choice.LICENCE: "constrained"}
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


def content_signal(choices: dict[str, str]) -> str:
    """The Cloudflare ``Content-Signal`` value for our choices: ``search=yes, ai-input=no,
    ai-train=no`` — ``yes`` only for a free ``allow``."""
    return ", ".join(
        f"{signal}={'yes' if strictest(*(choices[u] for u in uses)) == Choice.ALLOW else 'no'}"
        for signal, uses in CONTENT_SIGNAL.items()
    )


def cawg_training_mining(choices: dict[str, str], *, constraint_info: str = "") -> dict:
    """The data of a ``cawg.training-mining`` assertion (CAWG 1.1): one entry per CAWG use;
    ``constraint_info`` (where to obtain a licence) on each ``constrained`` entry."""
    entries = {}
    for entry, use in CAWG_ENTRIES.items():
        value = {"use": CAWG_USE[choices[use]]}
        if choices[use] == Choice.LICENCE and constraint_info:
            value["constraint_info"] = constraint_info
        entries[entry] = value
    return {"entries": entries}


def c2pa_manifest_definition(choices: dict[str, str], *, constraint_info: str = "") -> dict:
    """A C2PA manifest definition holding the one ``cawg.training-mining`` assertion: what the
    C2PA SDKs' ``Builder`` and ``c2patool -m`` take to sign it into a file."""
    data = cawg_training_mining(choices, constraint_info=constraint_info)
    return {"assertions": [{"label": CAWG_LABEL, "data": data}]}


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


@lru_cache(maxsize=512)  # at most 3⁵ combinations of choices
def _public_signals(key: tuple[str, ...]) -> dict:
    choices = dict(zip(USES, key, strict=True))
    by_token = rsl_choices(choices)
    return {
        "content_usage": content_usage(choices),
        "content_signal": content_signal(choices),
        "tdm_reservation": 1 if tdm_reserved(choices) else 0,
        "rsl_permits": [token for token, choice in by_token.items() if choice == Choice.ALLOW],
        "rsl_prohibits": [token for token, choice in by_token.items() if choice != Choice.ALLOW],
    }


def public_signals(decisions: dict) -> dict:
    """The public signals of a work, from its *public* decisions (use → ``Decision``, for
    ``developer=None``): the ``Content-Usage`` value its page sends, the Content Signals value,
    its TDM reservation (``1``/``0``) and the usage tokens its free RSL licence permits and
    prohibits. The registry API's answers carry it, the same for every caller. Works with the
    same choices share one dict: read it, never change it."""
    return _public_signals(tuple(str(decisions[use].choice) for use in USES))
