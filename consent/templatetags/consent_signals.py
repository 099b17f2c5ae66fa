"""How a work's public page (a ``works`` template, which may not import ``consent``) shows the
work's machine-readable signals.

``{% work_ai_signals work %}`` in the page's ``head`` block computes the signals once
(``consent.signals.signals_for_work``), renders the ``<meta>`` tags and the RSL ``<link>``, and
leaves the response header fields on ``request.ai_signal_headers``, which
``consent.middleware.AISignalHeadersMiddleware`` copies onto the response.
``{% work_ai_uses work as uses %}`` gives the same signals' uses, in plain words, for the page's
"How AI may use this work" section — without computing them again.
"""

from django import template
from django.utils.html import format_html, format_html_join

from .. import signals as signals_module

register = template.Library()


def _signals(context, work):
    request = context.get("request")
    if request is not None:
        return signals_module.signals_for_work(work, request=request)
    memo = context.render_context.setdefault("consent_signals", {})
    if work.pk not in memo:
        memo[work.pk] = signals_module.signals_for_work(work)
    return memo[work.pk]


@register.simple_tag(takes_context=True)
def work_ai_signals(context, work):
    signals = _signals(context, work)
    request = context.get("request")
    if request is not None:
        request.ai_signal_headers = dict(signals.headers)
    meta = format_html_join("\n", '<meta name="{}" content="{}">', signals.meta)
    link = format_html(
        '<link rel="license" type="{}" href="{}">',
        signals_module.RSL_MEDIA_TYPE,
        signals.licence_url,
    )
    return format_html("{}\n{}", meta, link)


@register.simple_tag(takes_context=True)
def work_ai_uses(context, work):
    """The uses (``use``, ``use_label``, ``choice``, ``choice_label``, ``plain``, ``default``:
    the creator chose nothing, the portal's default applies), whether any is a default, the
    claim state and the machine-readable documents, for the page's words."""
    signals = _signals(context, work)
    uses = signals.uses()
    return {
        "uses": uses,
        "any_default": any(item["default"] for item in uses),
        "all_default": all(item["default"] for item in uses),
        "claim_state": signals.claim_state,
        "policy_url": signals.policy_url,
        "licence_url": signals.licence_url,
        "tdm_reserved": signals.tdm_reserved,
    }
