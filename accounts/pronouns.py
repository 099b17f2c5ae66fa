"""Pronouns a creator gives in the profile, and how the portal's words use them.

Nobody's gender is assumed: wherever a letter, an email or a page could say "her works", it
names the creator or says "their works". When a creator has given pronouns the portal
recognises ("she/her", "he/him", "they/them", "ze/zir", "ze/hir", "xe/xem"), the words use
them; anything else (a set the portal does not know, "any", nothing at all) falls back to
neutral "they". Pure functions: no database, no other app.

This module is the one place in the code that spells out gendered pronouns (its table), so the
sweep test (``tests/portal/test_no_assumed_gender.py``) allows it.
"""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError

PRONOUNS_MAX = 40

# Letters of any script, spaces and the punctuation people write pronouns with: "she/her",
# "they / them", "ze, zir", "he/him (his)". No "<", ">", "&", quotes or control characters.
_ALLOWED = re.compile(r"^[^\W\d_]+(?:[ /,.'’()\-]+[^\W\d_]+)*[ /,.'’()\-]*$")
_SPLIT = re.compile(r"[^\w]+")


@dataclass(frozen=True)
class Pronouns:
    """One set of English pronouns: "{subject} asks", "write to {object}", "{possessive} works".

    ``plural_verb``: "they ask" rather than "she asks". Letters avoid the subject form where
    they can (they name the creator instead), so a verb never needs to agree with it.
    """

    subject: str
    object: str
    possessive: str
    plural_verb: bool = False


THEY = Pronouns("they", "them", "their", plural_verb=True)

# The first set whose subject matches wins when the second word is missing or unknown
# ("ze" alone reads as ze/zir; "she/they" as she/her).
KNOWN = (
    Pronouns("she", "her", "her"),
    Pronouns("he", "him", "his"),
    THEY,
    Pronouns("ze", "zir", "zir"),
    Pronouns("ze", "hir", "hir"),
    Pronouns("xe", "xem", "xyr"),
)


def normalise_pronouns(value: str | None) -> str:
    """Trimmed, inner runs of spaces made one: ``"  she /  her "`` → ``"she / her"``."""
    return " ".join((value or "").split())


def validate_pronouns(value: str) -> None:
    """Refuse what cannot be pronouns: too long, HTML or other markup, digits, control
    characters. Empty is fine (the field is optional)."""
    value = normalise_pronouns(value)
    if not value:
        return
    if len(value) > PRONOUNS_MAX:
        raise ValidationError(
            f"Keep your pronouns under {PRONOUNS_MAX} characters, e.g. “they/them”.",
            code="pronouns_length",
        )
    if not _ALLOWED.match(value):
        raise ValidationError(
            "Write pronouns with letters, spaces and slashes only, e.g. “she/her”, "
            "“he/him”, “they/them” or “ze/zir”.",
            code="pronouns_characters",
        )


def pronouns_for(value: str | None) -> Pronouns | None:
    """The set ``value`` names, or None when the portal does not recognise it.

    ``"she/her"`` → she/her/her; ``"He / Him"`` → he/him/his; ``"they"`` → they/them/their;
    ``"she/they"`` → she (the first given); ``"any"``, ``"it/its"``, ``""`` → None.
    """
    words = [word for word in _SPLIT.split((value or "").lower()) if word]
    if not words:
        return None
    candidates = [known for known in KNOWN if known.subject == words[0]]
    if not candidates:
        return None
    if len(words) > 1:
        for known in candidates:
            if words[1] in (known.object, known.possessive):
                return known
    return candidates[0]


def pronouns_or_they(value: str | None) -> Pronouns:
    """What the portal's words use for a creator who gave ``value``: their set if recognised,
    else neutral "they"."""
    return pronouns_for(value) or THEY
