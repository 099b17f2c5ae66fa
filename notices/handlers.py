"""What happens when a notice's answer is overdue is the caller's business, not the engine's.

A caller registers, in its ``AppConfig.ready()``, a handler for the prefix of its topics (the
text before the first ``:``; ``removal`` for ``removal:42``)::

    register_overdue_handler("removal", removal_notice_overdue)

``deadlines.deadlines_run`` calls it once per overdue notice, with the notice, **inside** the
transaction that marks the notice handled: if the handler raises, both roll back and the next
run calls it again. So a handler writes to the database and leaves anything slow or remote
(emails, tasks) through ``transaction.on_commit``; it must not do network I/O itself.
"""

from collections.abc import Callable

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


# --- Staff who may record answers ----------------------------------------------------------------

StaffAccess = Callable[["User", "Notice"], bool]  # noqa: F821

_staff_access: dict[str, StaffAccess] = {}


def register_staff_access(prefix: str, func: StaffAccess) -> None:
    """Besides registry managers and superusers, ``func(user, notice)`` says who else may see a
    notice of this topic prefix on the staff notice page and record answers that reached them
    by other means — the guild staff a caller's notices name as the contact, say. It reads only."""
    if not prefix or ":" in prefix:
        raise ValueError(f"A topic prefix is the text before the first ':', not {prefix!r}.")
    _staff_access[prefix] = func


def unregister_staff_access(prefix: str) -> None:
    _staff_access.pop(prefix, None)


def staff_may_act(user, notice) -> bool:
    """Registry managers and superusers act on every notice; others where the caller says so."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if user.can_manage_registry:
        return True
    func = _staff_access.get(topic_prefix(notice.topic))
    return bool(func is not None and func(user, notice))
