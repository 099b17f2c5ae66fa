"""Machine-readable signals of consent: what the portal tells crawlers and AI pipelines.

* ``mapping`` — the ONE mapping from our vocabulary to each standard, with the versions pinned;
* ``work`` — one work's signals: page headers and ``<meta>`` tags, TDM policy, RSL licence;
* ``site`` — robots.txt, ai.txt, tdmrep.json, and the snippets for a creator's own website.

Everything is computed from ``consent.decisions`` for "any developer" when asked: no cache.
"""

from .mapping import RSL_MEDIA_TYPE
from .site import (
    SNIPPET_LABELS,
    ai_txt,
    default_tdm_policy,
    robots_txt,
    snippets_for,
    tdmrep_json,
)
from .work import WorkSignals, rsl_document, signals_for_work, tdm_policy

__all__ = [
    "RSL_MEDIA_TYPE",
    "SNIPPET_LABELS",
    "WorkSignals",
    "ai_txt",
    "default_tdm_policy",
    "robots_txt",
    "rsl_document",
    "signals_for_work",
    "snippets_for",
    "tdm_policy",
    "tdmrep_json",
]
