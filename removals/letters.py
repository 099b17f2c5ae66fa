"""The words of removal notices: the letter per developer (built on the shared manifest), the
retraction, and the legal wording — a default in plain words that superusers edit, and a
guild's own for the letters it sends as its member's agent."""

import json
from dataclasses import dataclass

from django.conf import settings
from django.template.loader import render_to_string

from accounts.pronouns import pronouns_or_they

from .models import Ask, LetterTemplate

DEFAULT_LEGAL_BASIS = """\
The creator owns the copyright in these works. Under the law of the United Kingdom (Copyright, \
Designs and Patents Act 1988), copying a work — including to build a training dataset, to train \
a model or to use it when a model runs — needs the permission of the copyright owner. The UK \
exception for text and data mining (section 29A) covers only non-commercial research.

In the European Union, the creator has reserved the rights over text and data mining in these \
works under Article 4(3) of Directive (EU) 2019/790: each work's page states the reservation in \
machine-readable form (TDMRep, robots.txt and HTTP headers), so the exception for commercial \
text and data mining does not apply to these works.

The creator has not given you permission for the uses listed in this notice, except under any \
licence named below."""


@dataclass(frozen=True)
class Letter:
    subject: str
    text: str
    html: str
    request_json: bytes = b""


def legal_basis(guild) -> str:
    """The guild's own wording if it has one, else the portal's (edited by superusers), else
    the built-in default."""
    scopes = ["default"] + ([f"guild:{guild.pk}"] if guild is not None else [])
    found = dict(
        LetterTemplate.objects.filter(scope__in=scopes).values_list("scope", "legal_basis")
    )
    if guild is not None and found.get(f"guild:{guild.pk}", "").strip():
        return found[f"guild:{guild.pk}"]
    return found.get("default", "").strip() or DEFAULT_LEGAL_BASIS


def creator_words(creator) -> dict:
    """How a letter names ``creator``: ``creator_name`` (credit name, else display name, else
    "the creator"; ``creator_name_start`` the same at a sentence's start — a name is never
    recapitalised) and ``pronouns`` (the set the creator gave, else neutral "they"; letters
    use only its object and possessive forms, so no verb has to agree with it). Nobody's
    gender is assumed."""
    profile = getattr(creator, "creator_profile", None)
    name = (profile.credit_name or profile.display_name) if profile else ""
    return {
        "creator_name": name or "the creator",
        "creator_name_start": name or "The creator",
        "pronouns": pronouns_or_they(profile.pronouns if profile else ""),
    }


def _who(request, guild, agent) -> dict:
    return {
        **creator_words(request.creator),
        "guild": guild,
        "agent": agent,
        "contact": (guild.contact_email if guild and guild.contact_email else "")
        or settings.NOTICES_REPLY_TO,
    }


@dataclass(frozen=True)
class WorksListing:
    """The list of works in the letter, as text and as HTML: the same for every developer, so
    rendered once per approval (rendering it per letter was 95 % of an approval's time)."""

    text: str
    html: str


def works_listing(manifest) -> WorksListing:
    context = {"works": manifest.works}
    return WorksListing(
        text=render_to_string("removals/letters/works.txt", context),
        html=render_to_string("removals/letters/works.html", context),
    )


def removal_letter(
    *,
    request,
    developer,
    manifest,
    grants,
    guild,
    legal_basis,
    due,
    agent=None,
    listing=None,
    evidence=None,
) -> Letter:
    """``guild``: the guild whose staff verified the request (its contact, its wording);
    ``agent``: the same guild when the creator's mandate lets it write as their agent, else
    None."""
    listing = listing or works_listing(manifest)
    context = {
        "request": request,
        "developer": developer,
        "works_text": listing.text,
        "works_html": listing.html,
        "work_count": manifest.count,
        "asks": [Ask(code).label for code in request.asks if code in Ask.values],
        "grants": grants,
        "legal_basis": legal_basis,
        "due": due,
        "site_name": settings.SITE_NAME,
        "evidence": evidence if evidence is not None else list(request.evidence.all()),
        **_who(request, guild, agent),
    }
    subject = render_to_string("removals/letters/removal_subject.txt", context)
    payload = {
        "request": request.pk,
        "topic": request.topic,
        "asked_by": {
            "creator": context["creator_name_start"],
            "agent": agent.name if agent else None,
            "verified_by": guild.name if guild else None,
            "contact": context["contact"],
        },
        "asks": list(request.asks),
        "where_used": request.where_used,
        "evidence_sha256": [e.sha256 for e in context["evidence"]],
        "good_faith_statement": True,
        "accuracy_statement": True,
        "answer_due_at": due.isoformat(),
        "works": manifest.count,
        "licence_grants": grants,
    }
    return Letter(
        subject=" ".join(subject.split()),
        text=render_to_string("removals/letters/removal.txt", context),
        html=render_to_string("removals/letters/removal.html", context),
        request_json=json.dumps(payload, ensure_ascii=False, indent=1).encode(),
    )


def retraction_letter(*, request, developer, reason) -> Letter:
    context = {
        "request": request,
        "developer": developer,
        "reason": reason,
        **creator_words(request.creator),
    }
    return Letter(
        subject=f"Retraction of removal request {request.pk}",
        text=render_to_string("removals/letters/retraction.txt", context),
        html=render_to_string("removals/letters/retraction.html", context),
    )


def follow_up_letter(*, request, developer, answer, reason, note, guild, due) -> Letter:
    """The notice asking ``developer`` again after the creator contested its "complied": its
    statement, their reason, the staff's note (issue 20)."""
    context = {
        "request": request,
        "developer": developer,
        "answer": answer,
        "reason": reason,
        "note": note,
        "due": due,
        **_who(request, guild, None),
    }
    return Letter(
        subject=f"Removal request {request.pk}: your answer is contested",
        text=render_to_string("removals/letters/follow_up.txt", context),
        html=render_to_string("removals/letters/follow_up.html", context),
    )
