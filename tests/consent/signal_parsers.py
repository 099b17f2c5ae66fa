"""Independent readers of the machine-readable signals, for the tests: each signal is parsed the
way a crawler would parse it (an RFC 9651 library, Google's robots.txt parser, ``json``, an XML
parser, an HTML parser) and turned back into our vocabulary, so the tests compare it with
``consent.decisions`` without going through ``consent.signals``."""

import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import http_sf
from django.conf import settings
from robotstxt import RobotsMatcher  # fast-robotstxt: Google's parser, with Content-Signal

RSL_NS = "https://rslstandard.org/rsl"
AI_USES = ("train-genai", "train-ai", "ai-input", "style")
ORDER = {"allow": 0, "licence": 1, "deny": 2}


def portal_ns() -> str:
    return f"{settings.SITE_URL}/ns/consent#"


def stricter(a: str, b: str) -> str:
    return a if ORDER[a] >= ORDER[b] else b


def content_usage(value: str) -> dict[str, str]:
    """``Content-Usage`` as an RFC 9651 Dictionary: ``{category: "y" | "n"}``."""
    parsed = http_sf.parse(value.encode("ascii"), tltype="dictionary")
    out = {}
    for key, (item, _params) in parsed.items():
        assert isinstance(item, http_sf.Token), f"{key} is not a token: {item!r}"
        out[key] = str(item)
    return out


def sf_token(value: str) -> str:
    item, _params = http_sf.parse(value.encode("ascii"), tltype="item")
    assert isinstance(item, http_sf.Token)
    return str(item)


class _Head(HTMLParser):
    def __init__(self):
        super().__init__()
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict] = []
        self._in_head = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "head":
            self._in_head = True
        elif tag == "meta" and self._in_head and "name" in attrs:
            self.meta.setdefault(attrs["name"], []).append(attrs.get("content", ""))
        elif tag == "link" and self._in_head:
            self.links.append(attrs)

    def handle_endtag(self, tag):
        if tag == "head":
            self._in_head = False


def head_of(html: str) -> _Head:
    parser = _Head()
    parser.feed(html)
    return parser


def link_header(value: str) -> list[dict]:
    """A ``Link`` field value (RFC 8288) as ``[{"url", "rel", "type"}]``."""
    links = []
    for url, params in re.findall(r"<([^>]*)>((?:\s*;\s*[a-z*]+=(?:\"[^\"]*\"|[^;,\s]+))*)", value):
        entry = {"url": url}
        for name, quoted, bare in re.findall(r';\s*([a-z*]+)=(?:"([^"]*)"|([^;,\s]+))', params):
            entry[name] = quoted or bare
        links.append(entry)
    return links


def policy_choices(policy: dict) -> dict[str, str]:
    """Our choice per use, read back from an ODRL TDM policy."""
    ns = portal_ns()

    def use_of(rule):
        if rule["action"] == f"{ns}style":
            return "style"
        assert rule["action"] == "tdm:mine"
        (constraint,) = rule["constraint"]
        assert constraint["leftOperand"] == "purpose" and constraint["operator"] == "eq"
        return constraint["rightOperand"].removeprefix(ns)

    choices = {}
    for rule in policy.get("permission", []):
        duties = {d["action"] for d in rule.get("duty", [])}
        if duties:
            assert {"obtainConsent", "compensate"} <= duties
        choices[use_of(rule)] = "licence" if duties else "allow"
    for rule in policy.get("prohibition", []):
        choices[use_of(rule)] = "deny"
    return choices


def load_json(content: bytes):
    return json.loads(content.decode("utf-8"))


def rsl(content: bytes) -> dict:
    """An RSL document read back: for each usage token ``allow`` (permitted by a licence with no
    payment, or attribution only), ``licence`` (offered by a licence with a payment) or ``deny``;
    the payments, holder, claim state and portal decisions."""
    root = ET.fromstring(content)
    n = {"rsl": RSL_NS}
    assert root.tag == f"{{{RSL_NS}}}rsl"
    (content_el,) = root.findall("rsl:content", n)
    tokens: dict[str, str] = {}
    payments = {}
    prohibited: set[str] = set()
    for licence in content_el.findall("rsl:license", n):
        paid = [
            p for p in licence.findall("rsl:payment", n) if p.get("type") not in ("attribution",)
        ]
        permits = licence.find("rsl:permits[@type='usage']", n)
        prohibits = licence.find("rsl:prohibits[@type='usage']", n)
        for token in (permits.text or "").split() if permits is not None else []:
            tokens[token] = "licence" if paid else "allow"
            if paid:
                payments[token] = {
                    "type": paid[0].get("type"),
                    "custom": paid[0].findtext("rsl:custom", namespaces=n),
                    "standard": paid[0].findtext("rsl:standard", namespaces=n),
                }
        if prohibits is not None and not paid:
            prohibited.update((prohibits.text or "").split())
    for token in prohibited:
        tokens.setdefault(token, "deny")
    ns = portal_ns()
    copyright_el = content_el.find("rsl:copyright", n)
    return {
        "url": content_el.get("url"),
        "tokens": tokens,
        "payments": payments,
        "holder": copyright_el.text if copyright_el is not None else None,
        "holder_attrs": dict(copyright_el.attrib) if copyright_el is not None else {},
        "claim_state": content_el.findtext(f"{{{ns}}}claim-state"),
        "credit_line": content_el.findtext(f"{{{ns}}}credit-line"),
        "decisions": {
            d.get("use"): d.get("choice") for d in content_el.findall(f"{{{ns}}}decision")
        },
    }


def content_signal(robots_txt: str, agent: str, url: str) -> dict[str, bool | None] | None:
    """The ``Content-Signal`` that Google's robots.txt parser (``fast-robotstxt``) reads for
    ``agent`` in the group that applies to it: ``{"ai_train", "ai_input", "search"}``, each
    True (yes), False (no) or None (not said); None when the group has no such line."""
    matcher = RobotsMatcher()
    matcher.is_allowed(robots_txt, agent, url)
    return matcher.content_signal


# CAWG Training and Data Mining Assertion 1.1, its CDDL as JSON: {"entries": {label: {"use":
# "allowed" / "notAllowed" / "constrained", ? "constraint_info": tstr}}}; a label is a C2PA
# label (dot-separated parts of letters, digits, "_" and "-").
CAWG_USES = {"allowed", "notAllowed", "constrained"}
C2PA_LABEL = re.compile(r"[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+")


def cawg_training_mining(data: dict) -> dict[str, dict]:
    """The entries of a ``cawg.training-mining`` assertion's data, checked against its shape:
    ``{label: {"use", "constraint_info"?}}``."""
    assert set(data) == {"entries"}, data
    entries = data["entries"]
    assert isinstance(entries, dict) and entries, entries
    for label, entry in entries.items():
        assert C2PA_LABEL.fullmatch(label), label
        assert isinstance(entry, dict) and set(entry) <= {"use", "constraint_info"}, entry
        assert entry["use"] in CAWG_USES, entry
        assert isinstance(entry.get("constraint_info", ""), str), entry
    return entries


def c2pa_training_mining(content: bytes) -> dict[str, dict]:
    """The ``cawg.training-mining`` entries of a C2PA manifest definition (JSON): its one
    assertion, with that label."""
    definition = load_json(content)
    assert set(definition) == {"assertions"}, definition
    (assertion,) = definition["assertions"]
    assert set(assertion) == {"label", "data"} and assertion["label"] == "cawg.training-mining"
    return cawg_training_mining(assertion["data"])


def cawg_choice(entry: dict) -> str:
    """A CAWG entry in our words: ``constrained`` is "only under licence"."""
    return {"allowed": "allow", "notAllowed": "deny", "constrained": "licence"}[entry["use"]]
