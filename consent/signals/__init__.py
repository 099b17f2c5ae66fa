"""Machine-readable signals of consent: what the portal tells crawlers and AI pipelines.

* ``mapping`` — the ONE mapping from our vocabulary to each standard, with the versions pinned;
* ``work`` — one work's signals: page headers and ``<meta>`` tags, TDM policy, RSL licence, C2PA
  ``cawg.training-mining`` assertion;
* ``site`` — robots.txt, ai.txt, tdmrep.json, and the snippets for a creator's own website and
  files;
* ``mapping.public_signals`` — a work's public signals in the registry API's answers.

Everything is computed from ``consent.decisions`` for "any developer" when asked: no cache.
"""

from .mapping import RSL_MEDIA_TYPE, public_signals
from .site import (
    SNIPPET_LABELS,
    ai_txt,
    c2pa_for_owner,
    default_tdm_policy,
    robots_txt,
    snippets_for,
    tdmrep_json,
)
from .work import WorkSignals, c2pa_training_mining, rsl_document, signals_for_work, tdm_policy

__all__ = [
    "RSL_MEDIA_TYPE",
    "SNIPPET_LABELS",
    "WorkSignals",
    "ai_txt",
    "c2pa_for_owner",
    "c2pa_training_mining",
    "default_tdm_policy",
    "public_signals",
    "robots_txt",
    "rsl_document",
    "signals_for_work",
    "snippets_for",
    "tdm_policy",
    "tdmrep_json",
]
