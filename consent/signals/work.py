"""One work's signals: the headers and ``<meta>`` tags of its public page, its TDM policy (ODRL
JSON-LD), its RSL licence document and its C2PA ``cawg.training-mining`` assertion — all from one
set of decisions for "any developer"."""

from dataclasses import dataclass, field
from xml.etree import ElementTree as ET

from django.urls import reverse

from .. import decisions as decisions_module
from ..decisions import Decision
from ..models import CreditPreference
from ..vocabulary import USES, Choice, Use
from .mapping import (
    H_CLAIM,
    H_CONTENT_USAGE,
    H_LINK,
    H_ROBOTS,
    H_TDM_POLICY,
    H_TDM_RESERVATION,
    NOAI,
    RSL_MEDIA_TYPE,
    RSL_NS,
    RSL_PAYMENT,
    TDM_CONTEXT,
    TDMREP_PROFILE,
    absolute,
    c2pa_manifest_definition,
    contact_uri,
    content_usage,
    portal_ns,
    rsl_choices,
    tdm_reserved,
)


def kind_word(work) -> str:
    """The work's kind for a sentence ("this book"…); "work" for other kinds."""
    return "work" if work.kind == "other" else work.kind


def _credit_name(work) -> str:
    profile = getattr(work.owner, "creator_profile", None)
    if profile is None:
        return ""
    return profile.credit_name or profile.display_name


def credit_of(owner) -> CreditPreference | None:
    return CreditPreference.objects.filter(owner=owner).first()


# --- One work ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WorkSignals:
    """Everything a work's public page says to machines, from one set of decisions."""

    work: object
    decisions: dict[str, Decision]
    claim_state: str
    page_url: str
    policy_url: str
    licence_url: str
    headers: dict[str, str] = field(default_factory=dict)
    meta: list[tuple[str, str]] = field(default_factory=list)

    @property
    def choices(self) -> dict[str, str]:
        return {use: d.choice for use, d in self.decisions.items()}

    @property
    def tdm_reserved(self) -> bool:
        return tdm_reserved(self.choices)

    @property
    def train_genai_allowed(self) -> bool:
        return self.decisions["train-genai"].allowed

    def uses(self) -> list[dict]:
        """Each use with its choice and plain words, for the page's human-readable section."""
        kind = kind_word(self.work)
        return [
            {
                "use": use,
                "use_label": Use(use).label,
                "choice": self.decisions[use].choice,
                "choice_label": self.decisions[use].label,
                "plain": self.decisions[use].plain(kind),
                # The creator chose nothing for this use (neither for the work nor as their
                # default): the portal's default applies, and the page says so.
                "default": self.decisions[use].source == "built-in",
            }
            for use in USES
        ]


def signals_for_work(work, *, request=None) -> WorkSignals:
    """The signals of ``work`` for "any developer". Two queries (the creator's defaults and the
    work's overrides), whatever the number of works, overrides and grants. With ``request``,
    computed once per request and work."""
    memo = getattr(request, "_consent_signals", None) if request is not None else None
    if memo is not None and work.pk in memo:
        return memo[work.pk]

    decisions = decisions_module.decisions_for_work(work, developer=None)
    choices = {use: d.choice for use, d in decisions.items()}
    page_path = reverse("works:public", args=[work.public_id])
    policy_url = absolute(reverse("consent:tdm-policy", args=[work.public_id]))
    licence_url = absolute(reverse("consent:licence", args=[work.public_id]))
    reserved = tdm_reserved(choices)

    headers = {H_CONTENT_USAGE: content_usage(choices)}
    meta: list[tuple[str, str]] = []
    if choices["train-genai"] != Choice.ALLOW:
        headers[H_ROBOTS] = NOAI
        meta.append(("robots", NOAI))
    headers[H_TDM_RESERVATION] = "1" if reserved else "0"
    meta.append(("tdm-reservation", headers[H_TDM_RESERVATION]))
    if reserved:
        headers[H_TDM_POLICY] = policy_url
        meta.append(("tdm-policy", policy_url))
    headers[H_LINK] = f'<{licence_url}>; rel="license"; type="{RSL_MEDIA_TYPE}"'
    headers[H_CLAIM] = work.claim_state
    meta.append(("consent-claim-state", work.claim_state))

    signals = WorkSignals(
        work=work,
        decisions=decisions,
        claim_state=work.claim_state,
        page_url=absolute(page_path),
        policy_url=policy_url,
        licence_url=licence_url,
        headers=headers,
        meta=meta,
    )
    if request is not None:
        if memo is None:
            memo = {}
            request._consent_signals = memo
        memo[work.pk] = signals
    return signals


# --- TDMRep policy (ODRL JSON-LD) ----------------------------------------------------------------


def _assigner(*, name: str, uid: str, contact: str, terms_url: str = "") -> dict:
    assigner = {"uid": uid, "vcard:fn": name}
    uri = contact_uri(contact)
    if uri.startswith("mailto:"):
        assigner["vcard:hasEmail"] = uri
    elif uri:
        assigner["vcard:hasURL"] = uri
    if terms_url and "vcard:hasURL" not in assigner:
        assigner["vcard:hasURL"] = terms_url
    return assigner


def _odrl_rule(use: str, target: str) -> dict:
    """The rule for one of our uses: ``tdm:mine`` for a purpose named in the portal's namespace,
    or, for ``style`` (no standard token), the portal's own action."""
    ns = portal_ns()
    if use == "style":
        return {"target": target, "action": f"{ns}style"}
    return {
        "target": target,
        "action": "tdm:mine",
        "constraint": [{"leftOperand": "purpose", "operator": "eq", "rightOperand": f"{ns}{use}"}],
    }


def tdm_policy(work) -> dict:
    """The work's TDM policy: an ODRL ``Offer`` in the TDMRep profile.

    One rule per use: a permission when allowed; a permission with the duties ``obtainConsent``
    and ``compensate`` (and ``attribute`` when the creator requires credit) when only under
    licence; a prohibition when denied. TDMRep says a policy SHOULD NOT hold prohibitions; we
    state them anyway so that a denial is explicit — a reader that ignores them still finds no
    permission for that purpose. Claim state, credit line and work are stated with the portal's
    own terms.
    """
    signals = signals_for_work(work)
    credit = credit_of(work.owner)
    ns = portal_ns()
    target = signals.page_url
    permissions: list[dict] = []
    prohibitions: list[dict] = []
    for use in USES:
        choice = signals.decisions[use].choice
        rule = _odrl_rule(use, target)
        if choice == Choice.ALLOW:
            permissions.append(rule)
        elif choice == Choice.LICENCE:
            duties = [{"action": "obtainConsent"}, {"action": "compensate"}]
            if credit is None or credit.attribution_required:
                duties.append({"action": "attribute"})
            permissions.append({**rule, "duty": duties})
        else:
            prohibitions.append(rule)
    policy = {
        "@context": list(TDM_CONTEXT),
        "@type": "Offer",
        "profile": TDMREP_PROFILE,
        "uid": signals.policy_url,
        "assigner": _assigner(
            name=_credit_name(work) or "The creator",
            uid=(credit.link if credit and credit.link else signals.page_url),
            contact=credit.licensing_contact if credit else "",
            terms_url=credit.terms_url if credit else "",
        ),
        "permission": permissions,
    }
    if prohibitions:
        policy["prohibition"] = prohibitions
    policy[f"{ns}work"] = signals.page_url
    policy[f"{ns}claimState"] = signals.claim_state
    if credit and credit.credit_line:
        policy[f"{ns}creditLine"] = credit.credit_line
    if credit and credit.terms_url:
        policy[f"{ns}terms"] = credit.terms_url
    return policy


# --- C2PA / CAWG training-mining assertion ------------------------------------------------


def c2pa_training_mining(work) -> dict:
    """The work's ``cawg.training-mining`` assertion in a C2PA manifest definition, for its
    creator to sign into the work's files; each ``constrained`` entry (a use only under licence)
    names the work's RSL licence as its ``constraint_info``."""
    signals = signals_for_work(work)
    return c2pa_manifest_definition(signals.choices, constraint_info=signals.licence_url)


# --- RSL licence document ------------------------------------------------------------------------


def rsl_document(work) -> str:
    """The work's RSL 1.0 licence document (XML, built with ElementTree: every value escaped).

    A free ``<license>`` permits the freely allowed tokens and prohibits the others (with an
    ``attribution`` payment when the creator requires credit); each token under licence gets its
    own paid ``<license>`` offering it with a ``<payment>`` pointing to the creator's licensing
    contact and terms.
    """
    signals = signals_for_work(work)
    credit = credit_of(work.owner)
    by_token = rsl_choices(signals.choices)
    ns = portal_ns()
    ET.register_namespace("", RSL_NS)
    ET.register_namespace("portal", ns)

    def rsl(tag: str) -> str:
        return f"{{{RSL_NS}}}{tag}"

    # max-age is in days; 1 is the least RSL allows (its default is 30).
    root = ET.Element(rsl("rsl"), {"max-age": "1"})
    content = ET.SubElement(
        root, rsl("content"), {"url": reverse("works:public", args=[work.public_id])}
    )

    free = [t for t, c in by_token.items() if c == Choice.ALLOW]
    not_free = [t for t, c in by_token.items() if c != Choice.ALLOW]
    licence = ET.SubElement(content, rsl("license"))
    if free:
        ET.SubElement(licence, rsl("permits"), {"type": "usage"}).text = " ".join(free)
    if not_free:
        ET.SubElement(licence, rsl("prohibits"), {"type": "usage"}).text = " ".join(not_free)
    if free and (credit is None or credit.attribution_required):
        ET.SubElement(licence, rsl("payment"), {"type": "attribution"})

    contact = contact_uri(credit.licensing_contact) if credit else ""
    for token in (t for t, c in by_token.items() if c == Choice.LICENCE):
        paid = ET.SubElement(content, rsl("license"))
        ET.SubElement(paid, rsl("permits"), {"type": "usage"}).text = token
        payment = ET.SubElement(paid, rsl("payment"), {"type": RSL_PAYMENT[token]})
        if credit and credit.terms_url:
            ET.SubElement(payment, rsl("standard")).text = credit.terms_url
        ET.SubElement(payment, rsl("custom")).text = contact or signals.page_url

    holder = {"type": "person"}
    if contact.startswith("mailto:"):
        holder["contactEmail"] = contact.removeprefix("mailto:")
    elif contact:
        holder["contactUrl"] = contact
    ET.SubElement(content, rsl("copyright"), holder).text = _credit_name(work) or (
        credit.credit_line if credit else ""
    )
    if credit and credit.terms_url:
        ET.SubElement(content, rsl("terms")).text = credit.terms_url

    ET.SubElement(content, f"{{{ns}}}claim-state").text = signals.claim_state
    if credit and credit.credit_line:
        ET.SubElement(content, f"{{{ns}}}credit-line").text = credit.credit_line
    for use in USES:
        ET.SubElement(
            content, f"{{{ns}}}decision", {"use": use, "choice": signals.decisions[use].choice}
        )
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
