"""Bulk lookup: for each identifier a pipeline holds, the works registered under it and what
their creators want *for the calling developer* (docs/api.md, "Works registry").

``lookup(items, developer=…)`` takes the parsed request items — each an object with exactly one
key of ``KINDS`` — and answers one entry per item, in order: ``{"matched", "works",
"truncated"}``, or ``{"error": {"code", "message"}}`` for an item that is not an object, names no
known identifier or several, or is malformed. A bad item never spoils the others.

Which works answer: every registered work, active or archived (archiving keeps a work's
decisions), whatever its claim state — ``status`` and ``claim_state`` say which, so a pipeline
may weigh a self-declared or rejected claim as it sees fit.

A ``url`` item no work answers may be answered by a creator's verified site covering it: its
result then also has ``"sites": [{"site": {...}, "match": {"kind": "site"}}]`` and ``matched``
is true (``sites_lookup``; one more query for every host asked, two for the sites' decisions).

Queries do not grow with the items: one per identifier scheme present (the ``(scheme, value)``
index), one for SHA-256 (``WorkFile.sha256``), one for every pHash together (the block index,
``works.conflicts.index.phash_near``), then for every ``WORKS_CHUNK`` works matched: the works,
their identifiers and their decisions (``consent.decisions.decisions_for_works``, three).
"""

import re
from collections import defaultdict
from types import SimpleNamespace

from django.core.exceptions import ValidationError

from consent.decisions import decisions_with_public
from consent.digests import WORK_FIELDS, page_url_template, work_object
from consent.signals import public_signals
from works.conflicts.index import max_distance_checked, phash_near
from works.identifiers import SCHEMES, normalise
from works.models import Work, WorkFile, WorkIdentifier

from .sites_lookup import site_answers

KINDS = ("url", "sha256", "phash", "isbn", "isrc", "iswc", "doi")
MAX_WORKS_PER_ITEM = 20
WORKS_CHUNK = 10_000  # matched works loaded (with identifiers and decisions) per round

_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_PHASH = re.compile(r"[0-9a-fA-F]{16}")
_KIND_LIST = ", ".join(KINDS)


class ItemError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message

    def as_json(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


def parse_item(item) -> tuple[str, str | int]:
    """``(kind, normalised value)`` of one request item — a pHash as its unsigned 64 bits —
    or ``ItemError``. Messages never repeat the input."""
    if not isinstance(item, dict):
        raise ItemError(
            "not_an_object",
            f'Each item is an object with one identifier, e.g. {{"isbn": "9780306406157"}}; '
            f"the keys are {_KIND_LIST}.",
        )
    known = [key for key in item if key in KINDS]
    if len(known) > 1:
        raise ItemError(
            "several_identifiers",
            "This item names several identifiers: send one item for each.",
        )
    if not known:
        raise ItemError(
            "no_identifier", f"This item names no identifier: its one key is one of {_KIND_LIST}."
        )
    if len(item) > 1:
        raise ItemError(
            "unknown_key", f"An item has exactly one key, its identifier: one of {_KIND_LIST}."
        )
    kind = known[0]
    value = item[kind]
    if not isinstance(value, str):
        raise ItemError("invalid_identifier", f"The {kind} is a string.")
    if kind == "sha256":
        value = value.strip()
        if not _SHA256.fullmatch(value):
            raise ItemError("invalid_identifier", "A SHA-256 is 64 hexadecimal digits (0-9, a-f).")
        return kind, value.lower()
    if kind == "phash":
        value = value.strip()
        if not _PHASH.fullmatch(value):
            raise ItemError(
                "invalid_identifier",
                "A pHash is 16 hexadecimal digits, as imagehash's str(imagehash.phash(image)).",
            )
        return kind, int(value, 16)
    try:
        return kind, normalise(kind, value)
    except ValidationError as exc:
        raise ItemError("invalid_identifier", exc.messages[0]) from None


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def work_objects(work_ids, *, developer=None) -> dict[int, dict]:
    """``{work pk: the published work object}`` (``consent.digests.work_object``) with each
    decision for ``developer`` (``None``: the public decision, no licence grant applies) and
    the work's public ``signals`` (``consent.signals.public_signals``, the same for anyone)."""
    objects: dict[int, dict] = {}
    page_url = page_url_template()
    for chunk in _chunks(sorted(set(work_ids)), WORKS_CHUNK):
        rows = list(Work.objects.filter(pk__in=chunk).values(*WORK_FIELDS))
        if not rows:
            continue
        identifiers: dict[int, list[str]] = defaultdict(list)
        for work_id, scheme, value in (
            WorkIdentifier.objects.filter(work_id__in=chunk)
            .order_by("work_id", "scheme", "pk")
            .values_list("work_id", "scheme", "value")
        ):
            identifiers[work_id].append(f"{scheme}:{value}")
        decisions, public = decisions_with_public(
            [SimpleNamespace(pk=row["pk"], owner_id=row["owner_id"]) for row in rows],
            developer=developer,
        )
        for row in rows:
            pk = row["pk"]
            objects[pk] = work_object(row, decisions[pk], identifiers[pk], page_url=page_url)
            objects[pk]["signals"] = public_signals(public[pk])
    return objects


def matches(wanted: dict[str, dict]) -> dict[int, dict[int, int]]:
    """``{item index: {work pk: distance}}`` for the parsed items (``kind → value → [index]``)."""
    found: dict[int, dict[int, int]] = defaultdict(dict)

    def add(indexes, work_id, distance=0):
        for index in indexes:
            known = found[index].get(work_id)
            if known is None or distance < known:
                found[index][work_id] = distance

    for scheme in SCHEMES:
        values = wanted.get(scheme)
        if values:
            rows = WorkIdentifier.objects.filter(scheme=scheme, value__in=sorted(values))
            for work_id, value in rows.values_list("work_id", "value"):
                add(values[value], work_id)
    if wanted.get("sha256"):
        values = wanted["sha256"]
        rows = WorkFile.objects.filter(sha256__in=sorted(values))
        for work_id, sha256 in rows.values_list("work_id", "sha256"):
            add(values[sha256], work_id)
    if wanted.get("phash"):
        values = wanted["phash"]
        limit = max_distance_checked(None)
        for key, work_id, _, distance in phash_near({h: h for h in values}, limit):
            add(values[key], work_id, distance)
    return found


def lookup(items: list, *, developer=None) -> list[dict]:
    """One answer per item of ``items``, in order (see the module's docstring)."""
    results: list[dict | None] = [None] * len(items)
    wanted: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for index, item in enumerate(items):
        try:
            kind, value = parse_item(item)
        except ItemError as exc:
            results[index] = exc.as_json()
        else:
            wanted[kind][value].append(index)

    kept: dict[int, list[tuple[int, int]]] = {}
    truncated: set[int] = set()
    for index, works in matches(wanted).items():
        ranked = sorted(works.items(), key=lambda pair: (pair[1], pair[0]))
        if len(ranked) > MAX_WORKS_PER_ITEM:
            truncated.add(index)
        kept[index] = ranked[:MAX_WORKS_PER_ITEM]
    objects = work_objects(
        {work_id for ranked in kept.values() for work_id, _ in ranked}, developer=developer
    )
    kind_of = {
        index: kind for kind, values in wanted.items() for ix in values.values() for index in ix
    }
    # A creator's verified site answers an address no work answered (a work's own address
    # answers the work): ``"sites"`` appears in those results only (docs/api.md, "Sites").
    urls = wanted.get("url", {})
    sites = site_answers(
        {url: [i for i in ix if i not in kept] for url, ix in urls.items()}, developer=developer
    )

    for index, result in enumerate(results):
        if result is not None:
            continue
        kind = kind_of[index]
        works = []
        for work_id, distance in kept.get(index, ()):
            if work_id in objects:  # a work deleted meanwhile is left out
                match = {"kind": kind, "distance": distance} if kind == "phash" else {"kind": kind}
                works.append({**objects[work_id], "match": match})
        results[index] = {"matched": bool(works), "works": works, "truncated": index in truncated}
        if index in sites:
            results[index].update(matched=True, sites=sites[index])
    return results
