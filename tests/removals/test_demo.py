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
    assert notices.count() == 3
    assert not Delivery.objects.filter(notice__topic=approved.topic).exclude(status="delivered")
    answered = NoticeAnswer.objects.get(notice__topic=approved.topic)
    assert answered.kind == "acknowledged" and answered.notice.developer.slug == "sample-models"
    overdue = notices.get(overdue_at__isnull=False)
    assert overdue.developer.slug == "demo-generative" and overdue.answered_at is None
    assert approved.events.filter(action="overdue").count() == 1
