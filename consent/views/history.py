"""The creator's consent ledger: a readable timeline, and downloads (CSV, JSON) carrying the
canonical text and the hashes so that anyone can check the chain."""

import json

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from works.csvsafe import stream_rows

from .. import ledger, timeline
from ..models import LedgerChain

CHUNK = 500
CSV_HEADER = [
    "seq",
    "time",
    "action",
    "summary",
    "scope",
    "licence",
    "before",
    "after",
    "actor",
    "prev_hash",
    "hash",
    "canonical",
]
HOW_TO_VERIFY = (
    "Take the entries in order of seq. Each entry's hash is the SHA-256 (lower-case hex) of its "
    'prev_hash, a newline ("\\n") and its canonical text, encoded as UTF-8. The first entry\'s '
    "prev_hash is 64 zeros; every other entry's prev_hash is the hash of the entry before it."
)


@login_required
@require_GET
def history(request):
    """The creator's consent ledger as a timeline, newest first."""
    page = Paginator(ledger.entries_for(request.user), 50).get_page(request.GET.get("page"))
    items = timeline.describe(page.object_list, request.user)
    # The head — what their latest receipt should match — on every page.
    chain = LedgerChain.objects.filter(chain_id=request.user.ref).first()
    return render(
        request,
        "consent/history.html",
        {"page": page, "items": items, "genesis": ledger.GENESIS, "chain": chain},
    )


def _chunks(queryset):
    """Entries oldest first, a chunk at a time (constant memory, constant queries per chunk)."""
    last = 0
    while True:
        chunk = list(queryset.filter(seq__gt=last).order_by("seq")[:CHUNK])
        if not chunk:
            return
        yield chunk
        last = chunk[-1].seq


def _compact(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@login_required
@require_GET
def history_csv(request):
    owner = request.user

    def rows():
        yield CSV_HEADER
        for chunk in _chunks(ledger.entries_for(owner)):
            for item in timeline.describe(chunk, owner):
                entry, payload = item.entry, item.payload
                scope = payload.get("scope") or {}
                yield [
                    entry.seq,
                    payload["at"],
                    payload["action"],
                    item.sentence,
                    entry.scope_label,
                    scope.get("licence", ""),
                    _compact(payload.get("before")),
                    _compact(payload.get("after")),
                    entry.actor_label,
                    entry.prev_hash,
                    entry.hash,
                    entry.canonical,
                ]

    response = StreamingHttpResponse(stream_rows(rows()), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="consent-history.csv"'
    return response


@login_required
@require_GET
def history_json(request):
    owner = request.user
    chain = LedgerChain.objects.filter(chain_id=owner.ref).first()

    def body():
        head = {
            "format": "creator-consent-portal/consent-ledger",
            "version": ledger.FORMAT_VERSION,
            "chain": str(owner.ref),
            "length": chain.length if chain else 0,
            "head_hash": chain.head_hash if chain else ledger.GENESIS,
            "genesis": ledger.GENESIS,
            "how_to_verify": HOW_TO_VERIFY,
        }
        text = json.dumps(head, ensure_ascii=False, indent=1)
        yield text[: text.rindex("}")].rstrip() + ',\n "entries": ['
        first = True
        for chunk in _chunks(ledger.entries_for(owner)):
            for entry in chunk:
                record = {
                    "seq": entry.seq,
                    "at": entry.created_at.isoformat(),
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                    "canonical": entry.canonical,
                    "actor_label": entry.actor_label,
                    "scope_label": entry.scope_label,
                }
                yield ("\n  " if first else ",\n  ") + json.dumps(record, ensure_ascii=False)
                first = False
        yield "\n ]\n}\n"

    response = StreamingHttpResponse(body(), content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="consent-history.json"'
    return response
