"""Consent changes made at the same moment write true history: 20 threads, each on its own
database connection, released together at a barrier. Identical changes make one ledger entry
and one receipt; every entry's "before" is what the previous entry left; bulk changes over
overlapping works never fail. (On PostgreSQL the race is widest; SQLite serialises writers.)"""

import itertools
import json
import threading
from http import HTTPStatus

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import User
from consent import ledger, services
from consent.models import LedgerChain, LedgerEntry, Preference
from consent.vocabulary import DEFAULTS, USES, Choice
from works.models import Work

THREADS = 20

pytestmark = pytest.mark.django_db(transaction=True)


def _at_once(action, n=THREADS):
    """Run ``action(i)`` in ``n`` threads released together; return (results, errors)."""
    barrier = threading.Barrier(n)
    results, errors = [], []

    def run(i):
        try:
            prepared = action(i)  # loads its own objects on its own connection first
            barrier.wait(timeout=30)
            results.append(prepared())
        except Exception as exc:  # noqa: BLE001 — every failure is reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread never finished"
    return results, errors


def _entries(owner):
    return [
        (entry, json.loads(entry.canonical))
        for entry in LedgerEntry.objects.filter(chain__chain_id=owner.ref).order_by("seq")
    ]


def _receipts(owner):
    return [m for m in mail.outbox if owner.email in m.to and "Consent receipt" in m.subject]


def _chain_verifies(owner):
    report = ledger.verify_chain(LedgerChain.objects.get(chain_id=owner.ref))
    assert report.ok, report


def test_twenty_identical_first_defaults_at_once_make_one_entry_and_one_receipt(creator):
    def action(i):
        owner = User.objects.get(pk=creator.pk)
        return lambda: services.defaults_set(
            actor=owner, owner=owner, choices={"train-genai": "licence"}
        )

    results, errors = _at_once(action)

    assert errors == []
    assert sum(entry is not None for entry in results) == 1
    [(_, payload)] = _entries(creator)
    assert payload["before"] == {"train-genai": None}
    assert payload["after"] == {"train-genai": "licence"}
    assert len(_receipts(creator)) == 1
    assert Preference.objects.filter(owner=creator, work=None).count() == 1
    _chain_verifies(creator)


def test_twenty_identical_first_overrides_on_a_work_at_once_make_one_entry(creator):
    work = Work.objects.create(owner=creator, title="The Quiet Harbour", kind="book")

    def action(i):
        mine = Work.objects.select_related("owner").get(pk=work.pk)
        return lambda: services.override_set(
            actor=mine.owner, work=mine, choices={"train-genai": "deny", "search": "deny"}
        )

    results, errors = _at_once(action)

    assert errors == []
    assert sum(entry is not None for entry in results) == 1
    [(_, payload)] = _entries(creator)
    assert payload["before"] == {"train-genai": None, "search": None}
    assert len(_receipts(creator)) == 1
    assert Preference.objects.filter(work=work).count() == 2
    _chain_verifies(creator)


def _distinct_defaults(n):
    """``n`` different full sets of defaults, none of them the built-in one: whatever order
    they land in, each is a change."""
    built_in = tuple(DEFAULTS[use] for use in USES)
    sets = (
        combo
        for combo in itertools.product([c.value for c in Choice], repeat=len(USES))
        if combo != built_in
    )
    return [dict(zip(USES, combo, strict=True)) for combo in itertools.islice(sets, n)]


def test_twenty_different_defaults_at_once_chain_each_before_to_the_previous_after(creator):
    wanted = _distinct_defaults(THREADS)

    def action(i):
        owner = User.objects.get(pk=creator.pk)
        return lambda: services.defaults_set(actor=owner, owner=owner, choices=wanted[i])

    results, errors = _at_once(action)

    assert errors == []
    entries = _entries(creator)
    assert len(entries) == THREADS
    saved = {}  # what their defaults were (no row: None), replayed entry by entry
    for entry, payload in entries:
        assert payload["before"] == {use: saved.get(use) for use in payload["after"]}, entry.seq
        saved.update(payload["after"])
    rows = dict(Preference.objects.filter(owner=creator, work=None).values_list("use", "choice"))
    assert rows == saved
    assert len(_receipts(creator)) == THREADS
    _chain_verifies(creator)


def _bulk_history_is_consistent(owner, works):
    """Replay the bulk entries: each names the works it changed and what they had before."""
    by_public_id = {w.public_id: w.pk for w in works}
    state = {}  # work pk -> its override for train-genai (None: follows the default)
    for entry, payload in _entries(owner):
        assert payload["action"] == "bulk.apply"
        choice = payload["after"]["train-genai"]
        changed = [by_public_id[p] for p in payload["scope"]["works"]]
        befores = {state.get(pk) for pk in changed}
        assert choice not in befores, entry.seq  # a work that had it already was no change
        assert payload["before"]["choices"] == sorted(b or "default" for b in befores), entry.seq
        state.update(dict.fromkeys(changed, choice))
    overrides = Preference.objects.filter(owner=owner, use="train-genai")
    rows = dict(overrides.values_list("work", "choice"))
    assert rows == {pk: c for pk, c in state.items() if c is not None}


def test_concurrent_bulk_changes_over_overlapping_works_never_fail(creator):
    works = Work.objects.bulk_create(
        Work(owner=creator, title=f"Poem {i}", kind="poem") for i in range(30)
    )
    choices = ["deny", "licence", "allow", None]

    def action(i):
        owner = User.objects.get(pk=creator.pk)
        # Windows of 15 works sliding by 3: every thread overlaps its neighbours.
        start = (3 * i) % 30
        mine = list(Work.objects.filter(pk__in=[w.pk for w in (works * 2)[start : start + 15]]))
        return lambda: services.bulk_apply(
            actor=owner, owner=owner, works=mine, use="train-genai", choice=choices[i % 4]
        )

    results, errors = _at_once(action)

    assert errors == []
    _bulk_history_is_consistent(creator, works)
    assert len(_receipts(creator)) == sum(entry is not None for entry in results)
    _chain_verifies(creator)


def test_concurrent_bulk_change_posts_never_answer_500(creator):
    Work.objects.bulk_create(
        [Work(owner=creator, title=f"Poem {i}", kind="poem") for i in range(20)]
        + [Work(owner=creator, title=f"Book {i}", kind="book") for i in range(20)]
    )
    forms = [
        {"scope": "all", "choice": "licence"},
        {"scope": "kind", "kind": "poem", "choice": "deny"},
        {"scope": "all", "choice": "deny"},
        {"scope": "kind", "kind": "poem", "choice": "licence"},
    ]

    def action(i):
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(pk=creator.pk))
        data = {"use": "train-genai", "confirm": "on", **forms[i % len(forms)]}
        return lambda: client.post(reverse("consent:bulk"), data).status_code

    statuses, errors = _at_once(action)

    assert errors == []
    assert statuses == [HTTPStatus.FOUND] * THREADS
    _bulk_history_is_consistent(creator, list(Work.objects.filter(owner=creator)))
    _chain_verifies(creator)
