"""The consent ledger told in plain words: each entry's canonical JSON read back into a sentence
("You changed your default for training generative AI from not allowed to only under licence").

``describe`` takes a page of entries and answers in a constant number of queries (developers'
names, and the guilds of staff who acted under a mandate), whatever the page's length."""

import json
from dataclasses import dataclass
from datetime import date

from django.utils.dateformat import format as date_format

from accounts.models import GuildStaffAppointment, Mandate, User
from notices.models import AIDeveloper

from .wording import USE_WORDS, choice_word, uses_sentence

CREDIT_WORDS = {
    "credit_line": "credit line",
    "attribution_required": "attribution required",
    "link": "credit link",
    "licensing_contact": "licensing contact",
    "terms_url": "licence terms",
}
ACTION_LABELS = {
    "default.set": "Default changed",
    "override.set": "Work’s choice changed",
    "bulk.apply": "Many works changed",
    "credit.set": "Credit changed",
    "grant.create": "Licence granted",
    "grant.revoke": "Licence revoked",
    "grant.start": "Licence in force",
    "grant.end": "Licence ended",
}


@dataclass
class Item:
    entry: object
    payload: dict
    sentence: str
    action_label: str
    by_staff: bool = False


def _day(text: str | None) -> str:
    return date_format(date.fromisoformat(text), "j M Y") if text else ""


def _value(value) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value in (None, ""):
        return "(empty)"
    return f"“{value}”"


def _staff_guilds(refs: set[str], owner) -> dict[str, str]:
    """``{"user:<ref>": "Writers' Guild"}`` for staff who acted for ``owner`` under a mandate."""
    if not refs:
        return {}
    users = User.objects.filter(ref__in=[r.removeprefix("user:") for r in refs])
    appointments = (
        GuildStaffAppointment.objects.filter(
            user__in=users,
            guild__in=Mandate.objects.filter(creator=owner).values("guild_id"),
        )
        .select_related("user", "guild")
        .order_by("guild__name")
    )
    guilds: dict[str, list[str]] = {}
    for appointment in appointments:
        names = guilds.setdefault(f"user:{appointment.user.ref}", [])
        if appointment.guild.name not in names:
            names.append(appointment.guild.name)
    return {ref: ", ".join(names) for ref, names in guilds.items()}


def describe(entries, owner) -> list[Item]:
    """Plain-words items for ``entries`` of ``owner``'s chain, in the order given."""
    entries = list(entries)
    payloads = [json.loads(entry.canonical) for entry in entries]
    me = f"user:{owner.ref}"
    staff_refs = {p["actor"] for p in payloads if p["actor"] not in (me, "portal")}
    guilds = _staff_guilds(staff_refs, owner)
    slugs = {p["scope"].get("developer") for p in payloads if p["action"].startswith("grant.")} - {
        None
    }
    developers = dict(AIDeveloper.objects.filter(slug__in=slugs).values_list("slug", "name"))
    return [
        _item(entry, payload, me=me, guilds=guilds, developers=developers)
        for entry, payload in zip(entries, payloads, strict=True)
    ]


def _subject(entry, payload, *, me, guilds) -> tuple[str, bool]:
    actor = payload["actor"]
    if actor == me:
        return "You", False
    if actor == "portal":
        return "The portal", False
    name = entry.actor_label or "A guild staff member whose account was deleted"
    guild = guilds.get(actor)
    return (
        f"{name} ({guild}), under your mandate," if guild else f"{name}, under your mandate,"
    ), True


def _item(entry, payload, *, me, guilds, developers) -> Item:
    action = payload["action"]
    scope = payload.get("scope") or {}
    before = payload.get("before") or {}
    after = payload.get("after") or {}
    who, by_staff = _subject(entry, payload, me=me, guilds=guilds)

    if action == "default.set":
        parts = [
            f"{USE_WORDS.get(use, use)} from {choice_word(before.get(use), use=use)} "
            f"to {choice_word(choice, use=use)}"
            for use, choice in after.items()
        ]
        if len(parts) == 1:
            sentence = f"{who} changed your default for {parts[0]}."
        else:
            sentence = f"{who} changed your defaults: " + "; ".join(parts) + "."
    elif action == "override.set":
        title = entry.scope_label or "a work"
        follow = "following your default"
        parts = [
            f"{USE_WORDS.get(use, use)} from {choice_word(before.get(use), default_word=follow)} "
            f"to {choice_word(choice, default_word=follow)}"
            for use, choice in after.items()
        ]
        sentence = f"{who} changed the choices for “{title}”: " + "; ".join(parts) + "."
    elif action == "bulk.apply":
        use = scope.get("use", "")
        count = len(scope.get("works") or [])
        works = f"{count} work{'s' if count != 1 else ''}"
        choice = after.get(use)
        if choice is None:
            sentence = (
                f"{who} made {works} follow your default for {USE_WORDS.get(use, use)} again."
            )
        else:
            sentence = (
                f"{who} set {USE_WORDS.get(use, use)} to {choice_word(choice)} for {works} at once."
            )
    elif action == "credit.set":
        parts = [
            f"{CREDIT_WORDS.get(name, name)} from {_value(before.get(name))} to {_value(value)}"
            for name, value in after.items()
        ]
        sentence = f"{who} changed how you are credited: " + "; ".join(parts) + "."
    elif action.startswith("grant."):
        developer = developers.get(scope.get("developer"), scope.get("developer") or "a developer")
        licence = scope.get("licence", "")
        if action == "grant.create":
            works = scope.get("works")
            if works == "all":
                on = "all your works"
            else:
                count = len(works or [])
                on = f"{count} of your works" if count != 1 else "one of your works"
            period = f"from {_day(scope.get('from'))}"
            period += f" to {_day(scope['to'])}" if scope.get("to") else ", with no end date"
            sentence = (
                f"{who} granted {developer} a licence ({licence}) for "
                f"{uses_sentence(scope.get('uses') or [])} on {on}, {period}."
            )
        elif action == "grant.revoke":
            sentence = f"{who} revoked the licence {licence} of {developer}."
        elif action == "grant.start":
            sentence = f"The licence {licence} of {developer} came into force."
        elif action == "grant.end":
            sentence = f"The licence {licence} of {developer} ended."
        else:
            sentence = f"{who} changed the licence {licence} of {developer}."
    else:
        sentence = f"{who} made a change ({action})."
    return Item(
        entry=entry,
        payload=payload,
        sentence=sentence,
        action_label=ACTION_LABELS.get(action, action),
        by_staff=by_staff,
    )
