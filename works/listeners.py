"""Telling the apps above ``works`` that what is published about some works changed.

A work's published record — its title, kind, identifiers, status and claim state — is what the
works registry answers to AI developers, and its change feed (``works_registry.changes``) must
hear of every change to it in the transaction that makes it. ``works`` imports none of the apps
above it: they register a listener here from their ``AppConfig.ready``, and every service of
``works`` that changes a published field (or creates a work) calls ``works_changed`` inside its
transaction.
"""

from collections.abc import Callable, Iterable

_listeners: list[Callable[[list], None]] = []


def register_listener(listener: Callable[[list], None]) -> None:
    """``listener(works)`` is called with a list of ``Work`` objects (at least ``pk``,
    ``public_id`` and ``owner_id``) inside the transaction that created or changed them."""
    if listener not in _listeners:
        _listeners.append(listener)


def works_changed(works: Iterable) -> None:
    """Call inside the transaction that created ``works`` or changed what is published about
    them (title, kind, identifiers, status, claim state)."""
    works = [work for work in works if work.pk is not None]
    if works:
        for listener in _listeners:
            listener(works)
