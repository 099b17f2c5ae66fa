"""Independent readers of the machine-readable signals, for the tests: each signal is parsed the
way a crawler would parse it (an RFC 9651 library, ``json``, an XML parser, an HTML parser) and
turned back into our vocabulary, so the tests compare it with ``consent.decisions`` without going
through ``consent.signals``."""

import json
import re
from html.parser import HTMLParser
from xml.etree import ElementTree as ET

import http_sf
from django.conf import settings

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
