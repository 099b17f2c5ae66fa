"""Plain words for the consent pages: what a choice means, where a decision comes from, how a
grant stands. Reads nothing from the database; the decisions themselves come from
``consent.decisions``."""

from datetime import date

from .decisions import Decision
from .vocabulary import DEFAULTS, PLAIN, Choice, Use

USE_LABELS = dict(Use.choices)
CHOICE_LABELS = dict(Choice.choices)
# Short lower-case words for a choice inside a sentence ("from not allowed to allowed").
CHOICE_WORDS = {"allow": "allowed", "deny": "not allowed", "licence": "only under licence"}
# What a use is, inside a sentence ("your default for training generative AI").
USE_WORDS = {
    "train-genai": "training generative AI",
    "train-ai": "training any AI model",
    "ai-input": "use when running AI",
    "search": "search indexing",
    "style": "imitating your style, voice or likeness",
}


def kind_word(work) -> str:
    """The work's kind as a word for a sentence: "book", "photograph"… ("work" for other)."""
    return "work" if work.kind == "other" else work.kind


def consequence(use: str, choice: str, kind: str | None = None) -> str:
    """What ``choice`` means for ``use``: for one work of ``kind``, or (``kind`` None) for all
    of a creator's works."""
    text = PLAIN[(use, choice)]
    if kind is None:
        return text.replace("this {kind}", "your works").replace("back to it", "back to them")
    return text.format(kind=kind)


def choice_word(choice: str | None, *, use: str | None = None, default_word: str = "") -> str:
    """A choice as a word; None is "your default" for an override, or the built-in default."""
    if choice is None:
        if default_word:
            return default_word
        return f"the built-in default ({CHOICE_WORDS[DEFAULTS[use]]})" if use else "no choice"
    return CHOICE_WORDS.get(choice, str(choice))


def source_words(decision: Decision, *, who: str = "you", developer_name: str = "") -> str:
    """Where a decision comes from, in words ("your default", "this work's choice"…); ``who``
    is "you", or the creator's name when staff act for them."""
    if decision.source == "grant":
        name = f" for {developer_name}" if developer_name else ""
        return f"licence {decision.licence_ref}{name}"
    if decision.source == "override":
        return "this work’s choice"
    if decision.source == "default":
        return "your default" if who == "you" else f"{who}’s default"
    if decision.source == "implied":
        return implied_reason(decision, who=who)
    return "the built-in default"


def implied_reason(decision: Decision, *, who: str = "you") -> str:
    """Why ``train-genai`` follows ``train-ai``, said to the creator (or about them)."""
    if decision.choice == Choice.DENY:
        return f"because {who} said no to training any AI"
    return f"because {who} allowed training any AI only under licence"


def grant_state(grant, today: date) -> str:
    """``scheduled``, ``in-force``, ``ended`` or ``revoked``."""
    if grant.revoked_at is not None:
        return "revoked"
    if grant.starts_on > today:
        return "scheduled"
    if grant.ends_on is not None and grant.ends_on < today:
        return "ended"
    return "in-force"


GRANT_STATE_LABELS = {
    "scheduled": "Scheduled",
    "in-force": "In force",
    "ended": "Ended",
    "revoked": "Revoked",
}


def uses_sentence(uses) -> str:
    words = [USE_WORDS.get(use, use) for use in uses]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]
