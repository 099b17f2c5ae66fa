"""The state machine refuses every illegal step: for every step of ``services.TRANSITIONS`` and
every status the step does not start from, the service — called by someone who may take that
step — raises ``ValidationError`` and changes nothing (status, timeline, notices, emails).

The pairs are read from ``TRANSITIONS`` itself, so a status added to (or taken from) a step's set
changes what is tested here without touching this file."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from notices.models import Notice
from removals import services
from removals.models import RemovalEvent, RemovalRequest

Status = RemovalRequest.Status

# Each step, as its service is called by someone permitted to take it (``who``): the creator
# for their steps, their guild's staff for theirs.
STEPS = {
    "submit": (
        "creator",
        lambda actor, r: services.request_submit(
            actor=actor, request=r, good_faith=True, accurate=True, answer="The 2019 edition."
        ),
    ),
    "withdraw": (
        "creator",
        lambda actor, r: services.request_withdraw(actor=actor, request=r, reason="Changed mind."),
    ),
    "review": ("guild_staff", lambda actor, r: services.review_start(actor=actor, request=r)),
    "ask_info": (
        "guild_staff",
        lambda actor, r: services.info_request(actor=actor, request=r, question="Which edition?"),
    ),
    "approve": (
        "guild_staff",
        lambda actor, r: services.request_approve(actor=actor, request=r, grants_acknowledged=True),
    ),
    "reject": (
        "guild_staff",
        lambda actor, r: services.request_reject(actor=actor, request=r, reason="Not theirs."),
    ),
    "retract": (
        "creator",
        lambda actor, r: services.request_retract(actor=actor, request=r, reason="Settled."),
    ),
    "close": (
        "guild_staff",
        lambda actor, r: services.request_close(actor=actor, request=r, reason="Settled."),
    ),
}

ILLEGAL = [
    pytest.param(step, status, id=f"{step}-from-{status}")
    for step, allowed in services.TRANSITIONS.items()
    for status in Status.values
    if status not in allowed
]


def test_every_step_of_the_state_machine_is_exercised_here():
    assert set(STEPS) == set(services.TRANSITIONS)
    assert ILLEGAL, "every step is legal from every status?"


def test_the_legal_pairs_are_left_out():
    illegal = {tuple(p.values) for p in ILLEGAL}
    for step, allowed in services.TRANSITIONS.items():
        for status in allowed:
            assert (step, status) not in illegal


@pytest.fixture
def in_status(make_request):
    """A complete request (works, developers, asks, statements) put in ``status`` directly —
    the ORM reaches states the services would need many steps for."""

    def _in(status):
        removal = make_request(submit=False)
        RemovalRequest.objects.filter(pk=removal.pk).update(
            status=status, good_faith=True, accurate=True
        )
        removal.refresh_from_db()
        return removal

    return _in


@pytest.mark.parametrize(("step", "status"), ILLEGAL)
def test_an_illegal_step_is_refused_and_changes_nothing(step, status, in_status, request):
    who, call = STEPS[step]
    actor = request.getfixturevalue(who)
    removal = in_status(status)
    before = RemovalRequest.objects.values().get(pk=removal.pk)
    events = RemovalEvent.objects.filter(request=removal).count()
    notices = Notice.objects.count()
    mail.outbox.clear()

    with pytest.raises(ValidationError) as caught:
        call(actor, removal)

    assert "cannot be" in " ".join(caught.value.messages)
    assert RemovalRequest.objects.values().get(pk=removal.pk) == before
    assert RemovalRequest.objects.get(pk=removal.pk).status == status
    assert RemovalEvent.objects.filter(request=removal).count() == events
    assert Notice.objects.count() == notices
    assert mail.outbox == []
