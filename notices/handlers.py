"""What happens when a notice's answer is overdue is the caller's business, not the engine's.

A caller registers, in its ``AppConfig.ready()``, a handler for the prefix of its topics (the
text before the first ``:``; ``removal`` for ``removal:42``)::

    register_overdue_handler("removal", removal_notice_overdue)

``deadlines.deadlines_run`` calls it once per overdue notice, with the notice, **inside** the
transaction that marks the notice handled: if the handler raises, both roll back and the next
run calls it again. So a handler writes to the database and leaves anything slow or remote
(emails, tasks) through ``transaction.on_commit``; it must not do network I/O itself.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from django.db.models import Q

OverdueHandler = Callable[["Notice"], None]  # noqa: F821 - models import nothing from here

_overdue_handlers: dict[str, OverdueHandler] = {}


def topic_prefix(topic: str) -> str:
    return topic.split(":", 1)[0]


def register_overdue_handler(prefix: str, func: OverdueHandler) -> None:
    if not prefix or ":" in prefix:
        raise ValueError(f"A topic prefix is the text before the first ':', not {prefix!r}.")
    _overdue_handlers[prefix] = func


def unregister_overdue_handler(prefix: str) -> None:
    _overdue_handlers.pop(prefix, None)


def overdue_handler_for(topic: str) -> OverdueHandler | None:
    return _overdue_handlers.get(topic_prefix(topic))


# --- Answers -------------------------------------------------------------------------------------

AnswerHandler = Callable[["NoticeAnswer"], None]  # noqa: F821

_answer_handlers: dict[str, AnswerHandler] = {}


def register_answer_handler(prefix: str, func: AnswerHandler) -> None:
    """``func(answer)`` runs for every new answer to a notice of a topic with this prefix,
    inside the transaction that records it (raising refuses the answer). As with overdue
    handlers: database writes only, anything remote through ``transaction.on_commit``."""
    if not prefix or ":" in prefix:
        raise ValueError(f"A topic prefix is the text before the first ':', not {prefix!r}.")
    _answer_handlers[prefix] = func


def unregister_answer_handler(prefix: str) -> None:
    _answer_handlers.pop(prefix, None)


def answer_handler_for(topic: str) -> AnswerHandler | None:
    return _answer_handlers.get(topic_prefix(topic))


# --- Staff who may see notices and record answers --------------------------------------------

StaffAccess = Callable[["User", "Notice"], bool]  # noqa: F821
StaffTopics = Callable[["User"], object]  # noqa: F821 - a subquery of topics, or a list
Party = Callable[["User", "Notice"], bool]  # noqa: F821


@dataclass(frozen=True)
class _Access:
    may_act: StaffAccess
    topics: StaffTopics | None
    is_party: Party | None


_staff_access: dict[str, _Access] = {}


def register_staff_access(
    prefix: str,
    func: StaffAccess,
    *,
    topics: StaffTopics | None = None,
    is_party: Party | None = None,
) -> None:
    """Besides registry managers and superusers, ``func(user, notice)`` says who else may see a
    notice of this topic prefix on the staff pages and record answers that reached them by
    other means — the guild staff a caller's notices name as the contact, say. It reads only.

    ``topics(user)`` is the same rule for lists: the topics of this prefix ``user`` may see, as
    a subquery of topic strings (``.values("topic")``) or a list. The delivery pages filter
    with it in SQL, so a page costs the same whatever the number of notices; without it,
    nobody but registry managers and superusers sees this prefix's notices there.

    ``is_party(user, notice)``: ``user`` is one of the people the notice is about (the creator
    whose request it carries, whoever filed it). A party never records an answer to it through
    a staff route, even as a registry manager or superuser."""
    if not prefix or ":" in prefix:
        raise ValueError(f"A topic prefix is the text before the first ':', not {prefix!r}.")
    _staff_access[prefix] = _Access(func, topics, is_party)


def unregister_staff_access(prefix: str) -> None:
    _staff_access.pop(prefix, None)


def _active(user) -> bool:
    return user is not None and user.is_authenticated and user.is_active


def staff_may_see(user, notice) -> bool:
    """Registry managers and superusers see every notice; others where the caller says so."""
    if not _active(user):
        return False
    if user.can_manage_registry:
        return True
    access = _staff_access.get(topic_prefix(notice.topic))
    return bool(access is not None and access.may_act(user, notice))


def staff_may_act(user, notice) -> bool:
    """Who may record an answer through a staff route: who may see it (``staff_may_see``),
    unless the notice is about them (``is_party``)."""
    if not staff_may_see(user, notice):
        return False
    access = _staff_access.get(topic_prefix(notice.topic))
    return not (access is not None and access.is_party and access.is_party(user, notice))


def staff_notice_filter(user, path: str = "") -> Q | None:
    """The notices ``user`` may see on the staff pages, as a filter on ``Notice`` (or on a
    model reaching it: ``path="notice__"`` for ``Delivery``); ``None`` means every notice
    (registry managers and superusers). The same rule as ``staff_may_see``, in SQL: one
    subquery per registered prefix, no query per notice."""
    if _active(user) and user.can_manage_registry:
        return None
    nothing = Q(**{f"{path}pk__in": []})
    if not _active(user):
        return nothing
    shown = [
        Q(**{f"{path}topic__in": access.topics(user)})
        for access in _staff_access.values()
        if access.topics is not None
    ]
    return reduce(operator.or_, shown) if shown else nothing
