"""The demo shows a removal request's whole life: Ada has a draft, one awaiting review and one
approved whose notices were delivered, acknowledged by one developer and overdue at another."""

from io import StringIO

from django.core.management import call_command

from notices.models import Delivery, Notice, NoticeAnswer
from removals.models import RemovalRequest


def test_the_demo_holds_a_draft_a_request_in_review_and_an_approved_one_with_answers(db):
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())  # idempotent

    requests = RemovalRequest.objects.filter(creator__email="ada@demo.example")
    assert sorted(requests.values_list("status", flat=True)) == ["approved", "draft", "submitted"]
    approved = requests.get(status="approved")
    notices = Notice.objects.filter(topic=approved.topic, kind=Notice.Kind.NOTICE)
    assert notices.count() == 2
    assert not Delivery.objects.filter(notice__topic=approved.topic).exclude(status="delivered")
    answered = NoticeAnswer.objects.get(notice__topic=approved.topic)
    assert answered.kind == "acknowledged" and answered.notice.developer.slug == "sample-models"
    overdue = notices.get(overdue_at__isnull=False)
    assert overdue.developer.slug == "demo-generative" and overdue.answered_at is None
    assert approved.events.filter(action="overdue").count() == 1
    # Their history reads in order: filed, approved and sent five weeks ago, acknowledged two
    # days later, overdue today.
    actions = list(approved.events.values_list("action", flat=True))
    assert actions == ["created", "submitted", "approved", "sent", "sent", "answered", "overdue"]
    assert approved.decided_at < overdue.answer_due_at < overdue.overdue_at

    # Ben's request, approved by a superuser, waits for dev@demo.example's answer.
    bens = RemovalRequest.objects.get(creator__email="ben@demo.example")
    open_notice = Notice.objects.get(topic=bens.topic, kind=Notice.Kind.NOTICE)
    assert open_notice.developer.slug == "example-ai-labs"
    assert open_notice.answered_at is None and open_notice.overdue_at is None
    assert "LIC-42" in open_notice.text  # the licence Ben gave them is named
