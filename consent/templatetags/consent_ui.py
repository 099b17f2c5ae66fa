"""``{% load consent_ui %}{% work_ai_choices work %}``: a compact "How AI may use this work"
panel — the effective decision for any developer, per use, in plain words (one query batch)."""

from django import template

from ..decisions import decisions_for_work
from ..vocabulary import Use
from ..wording import kind_word, source_words

register = template.Library()


@register.inclusion_tag("consent/_work_ai_choices.html")
def work_ai_choices(work):
    kind = kind_word(work)
    decisions = decisions_for_work(work)
    rows = [
        {
            "use": use,
            "label": Use(use).label,
            "decision": decision,
            "plain": decision.plain(kind),
            "source": source_words(decision),
        }
        for use, decision in decisions.items()
    ]
    return {"work": work, "rows": rows}
