"""Issue 19, one truth per fact: a claim awaiting verification reads so (not "self-declared");
whoever approved a request or verified a claim is named as they acted — a guild's staff, or a
portal administrator — on the request page, its timeline and emails, the claim pages, and the
dashboard counts only what the creator's guild actually verified."""

from html import unescape

from django.core import mail
from django.urls import reverse
from django.utils import timezone

from removals import services
from tests import factories
from works import services as works_services
from works.models import Work


def _page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def _creator_mail(creator, words):
    return [m for m in mail.outbox if creator.email in m.to and words in m.subject]


def test_a_request_approved_by_a_superuser_names_a_portal_administrator_everywhere(
    client, make_request, superuser, creator, django_capture_on_commit_callbacks
):
    # Their guild has no staff: the request is stranded, a superuser decides it.
    removal = make_request()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_approve(actor=superuser, request=removal)

    client.force_login(creator)
    page = _page(client, reverse("removals:detail", args=[removal.pk]))
    assert "Approved by a portal administrator" in page
    assert "your guild's staff" not in page.lower().replace("when your guild's staff approve", "")
    history = page.split('id="history-heading"', 1)[1]
    assert "a portal administrator" in history

    [approved] = _creator_mail(creator, "is approved")
    assert "is approved by a portal administrator" in approved.body
    [claims] = _creator_mail(creator, "claims are verified")
    assert "a portal administrator checked your claims" in claims.body

    # The dashboard does not count these claims as verified by their guild.
    dashboard = client.get(reverse("portal:dashboard"))
    counts = dashboard.context["work_counts"]
    assert (counts["verified"], counts["verified_by_guild"], counts["verified_otherwise"]) == (
        2,
        0,
        2,
    )
    text = unescape(dashboard.content.decode())
    assert "Claims verified by a portal administrator" in text


def test_a_request_approved_by_guild_staff_names_their_guild(
    client, make_request, guild_staff, creator, django_capture_on_commit_callbacks
):
    removal = make_request()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_approve(actor=guild_staff, request=removal)

    client.force_login(creator)
    page = _page(client, reverse("removals:detail", args=[removal.pk]))
    assert "Approved by Writers' Guild of Great Britain staff" in page
    assert "a portal administrator" not in page
    [approved] = _creator_mail(creator, "is approved")
    assert "is approved by Writers' Guild of Great Britain staff" in approved.body
    counts = client.get(reverse("portal:dashboard")).context["work_counts"]
    assert (counts["verified_by_guild"], counts["verified_otherwise"]) == (2, 0)


def test_staff_appointed_after_the_verification_did_not_verify_it_as_the_guild(
    client, wggb, superuser, creator
):
    """The capacity is judged when the act happened: a superuser appointed to their guild later
    did not then act as its staff."""
    work = factories.WorkFactory(owner=creator, title="Early verified")
    Work.objects.filter(pk=work.pk).update(
        claim_state=Work.Claim.VERIFIED,
        claim_decided_by=superuser,
        claim_decided_at=timezone.now() - timezone.timedelta(days=3),
        claim_requested_at=timezone.now() - timezone.timedelta(days=4),
    )
    factories.StaffAppointmentFactory(user=superuser, guild=wggb)
    client.force_login(creator)
    counts = client.get(reverse("portal:dashboard")).context["work_counts"]
    assert (counts["verified_by_guild"], counts["verified_otherwise"]) == (0, 1)
    page = _page(client, reverse("works:detail", args=[work.public_id]))
    assert "A portal administrator checked that this work is yours" in page


def test_a_claim_awaiting_verification_reads_so_on_the_review_and_request_pages(
    client, make_request, guild_staff, creator, two_works
):
    waiting, plain = two_works
    works_services.claim_request(actor=creator, work=waiting, statement="My publisher's page")
    removal = make_request()

    client.force_login(guild_staff)
    review = _page(client, reverse("removals-staff:review", args=[removal.pk]))
    rows = review.split("<tbody>", 1)[1]
    waiting_row = rows.split(waiting.title, 1)[1].split("</tr>", 1)[0]
    plain_row = rows.split(plain.title, 1)[1].split("</tr>", 1)[0]
    assert "Awaiting verification" in waiting_row and "Self-declared" not in waiting_row
    assert "Self-declared" in plain_row

    client.force_login(creator)
    page = _page(client, reverse("removals:detail", args=[removal.pk]))
    works = page.split('id="works-heading"', 1)[1]
    assert works.count("Awaiting verification") == 1 and works.count("Self-declared") == 1


def test_the_claim_review_page_says_who_decided_a_claim(
    client, superuser, charlie, django_capture_on_commit_callbacks
):
    # Charlie has no guild: a portal administrator verifies the claim.
    work = factories.WorkFactory(owner=charlie, title="Unaffiliated")
    works_services.claim_request(actor=charlie, work=work, statement="Mine")
    with django_capture_on_commit_callbacks(execute=True):
        works_services.claim_decide(actor=superuser, work=work, verify=True)

    client.force_login(superuser)
    page = _page(client, reverse("works:claim-review", args=[work.public_id]))
    assert "This claim has already been decided" in page
    assert "by a portal administrator" in page
    [decided] = [m for m in mail.outbox if charlie.email in m.to]
    assert "a portal administrator checked your claim" in decided.body


def test_the_question_email_names_who_asked(
    make_request, superuser, creator, django_capture_on_commit_callbacks
):
    removal = make_request()
    with django_capture_on_commit_callbacks(execute=True):
        services.info_request(actor=superuser, request=removal, question="Which edition?")
    [asked] = [m for m in mail.outbox if creator.email in m.to]
    assert asked.subject.endswith("The portal needs more information about your removal request")
    assert "a portal administrator asked:" in asked.body
