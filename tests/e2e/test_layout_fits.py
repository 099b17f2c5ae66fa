"""Issue 19: pages fit a laptop (1280 px) and a phone (390 px) — nothing makes the page scroll
sideways, nothing reaches past the viewport, tables scroll inside their own labelled region —
and axe-core finds no serious or critical violation on any of them.

First the four pages the issue names, each with enough data to show its defect (long names,
twelve months, many rows, six-digit counts) and a check of the element itself: the overdue badge
inside its developer's card, the delivery rates page, the review statistics' month labels apart
and every chart label inside its chart, the admin dashboard's activity table inside its box.
Then a sweep: every page the demo's roles reach (``seed_demo``), for a creator, guild staff, a
superuser and a developer, at both widths."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests import factories
from tests.e2e import conftest as e2e

pytestmark = pytest.mark.browser

browser, page, audit, fits = e2e.browser, e2e.page, e2e.audit, e2e.fits

WIDTHS = (1280, 390)
LONG_DEVELOPER = "Consolidated Generative Intelligence Research Laboratories International Ltd"


def _sign_in(page, live_server, user):
    """Sign ``user`` in by session cookie (the sign-in form has its own browser tests)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


def _visit(page, url, audit):
    response = page.goto(url)
    assert response.ok, f"{url}: {response.status}"
    audit(page)


# Every box of ``inner`` lies within its closest ``outer`` (1 px of rounding allowed).
INSIDE = """([inner, outer]) => {
    const out = [];
    for (const el of document.querySelectorAll(inner)) {
        const box = el.getBoundingClientRect();
        const host = el.closest(outer).getBoundingClientRect();
        if (box.left < host.left - 1 || box.right > host.right + 1)
            out.push(`${el.textContent.trim()} ${Math.round(box.left)}..${Math.round(box.right)}`
                     + ` in ${Math.round(host.left)}..${Math.round(host.right)}`);
    }
    return out;
}"""

# Every chart's shown texts: inside the chart's own box (an SVG clips what it cannot hold), at
# least 10 px tall, and — for those on one line, such as the months under the axis — at least
# 6 px apart.
CHART_TEXTS = """() => {
    const problems = [];
    for (const svg of document.querySelectorAll('figure svg')) {
        const frame = svg.getBoundingClientRect();
        const texts = [...svg.querySelectorAll('text')]
            .map(t => ({t: t.textContent.trim(), box: t.getBoundingClientRect()}))
            .filter(x => x.box.width > 0);
        const lines = {};
        for (const {t, box} of texts) {
            if (box.left < frame.left - 1 || box.right > frame.right + 1
                || box.top < frame.top - 1 || box.bottom > frame.bottom + 1)
                problems.push(`"${t}" clipped: ${Math.round(box.left)}..${Math.round(box.right)}`
                              + ` in ${Math.round(frame.left)}..${Math.round(frame.right)}`);
            if (box.height < 10) problems.push(`"${t}" ${box.height.toFixed(1)} px tall`);
            (lines[Math.round(box.bottom)] ||= []).push({t, box});
        }
        for (const line of Object.values(lines)) {
            line.sort((a, b) => a.box.left - b.box.left);
            for (let i = 1; i < line.length; i++)
                if (line[i].box.left - line[i - 1].box.right < 6)
                    problems.push(`"${line[i - 1].t}" and "${line[i].t}" run together`);
        }
    }
    return problems;
}"""

# Tables that scroll sideways do so in a region a keyboard reaches and a screen reader names.
SCROLLERS = """() => [...document.querySelectorAll('table')].map(table => {
    if (table.closest('.visually-hidden')) return null;
    const wrap = table.closest('.table-wrap');
    if (!wrap) return table.getBoundingClientRect().right > innerWidth + 1 ? 'bare table' : null;
    if (wrap.scrollWidth <= wrap.clientWidth) return null;
    const name = wrap.getAttribute('aria-label') || wrap.getAttribute('aria-labelledby');
    return wrap.tabIndex === 0 && wrap.getAttribute('role') === 'region' && name
        ? null : `unlabelled scroller around "${(table.caption || {}).textContent || '?'}"`;
}).filter(Boolean)"""


def _check_width(page, fits, width):
    fits(page, width)
    assert page.evaluate(SCROLLERS) == [], f"{page.url} at {width} px"


# --- The overdue badge -------------------------------------------------------------------------


def _overdue_acknowledged_request(creator, staff, developer):
    """An approved request whose notice ``developer`` acknowledged and then let pass its
    deadline without complying or disputing: its lane says so in a long badge."""
    from notices.models import Notice, NoticeAnswer
    from notices.services import answer_record
    from removals import services

    work = factories.WorkFactory(owner=creator, title="The Lighthouse Keeper's Daughter")
    request = services.draft_create(actor=creator, creator=creator, title="My novels")
    services.draft_update(
        actor=creator,
        request=request,
        works=[work],
        developers=[developer],
        asks=["cease", "datasets"],
        where_used="https://dataset.example/books3",
    )
    services.request_submit(actor=creator, request=request, good_faith=True, accurate=True)
    (notice,) = services.request_approve(actor=staff, request=request)
    answer_record(
        notice=notice,
        kind=NoticeAnswer.Kind.ACKNOWLEDGED,
        statement="",
        via=NoticeAnswer.Via.LINK,
    )
    Notice.objects.filter(pk=notice.pk).update(answer_due_at=timezone.now() - timedelta(days=9))
    return request


def test_the_overdue_badge_stays_inside_its_developers_card(
    live_server, page, audit, fits, creator, guild_staff
):
    developer = factories.AIDeveloperFactory(name=LONG_DEVELOPER, slug="cgirl")
    factories.DeveloperContactFactory(developer=developer, email="legal@cgirl.example")
    request = _overdue_acknowledged_request(creator, guild_staff, developer)

    _sign_in(page, live_server, creator)
    _visit(page, live_server.url + reverse("removals:detail", args=[request.pk]), audit)
    badge = page.locator(".lane-state .badge")
    assert re.match(r"Overdue — acknowledged on", badge.inner_text())
    for width in WIDTHS:
        _check_width(page, fits, width)
        assert page.evaluate(INSIDE, [".lane-state .badge", ".lane"]) == [], width

    page.context.clear_cookies()
    _sign_in(page, live_server, guild_staff)
    for name, args in [("removals-staff:review", [request.pk]), ("removals-staff:overdue", [])]:
        _visit(page, live_server.url + reverse(name, args=args), audit)
        for width in WIDTHS:
            _check_width(page, fits, width)


# --- The delivery rates page -------------------------------------------------------------------


def _deliveries(developer, *, copies, days=30):
    """A notice to ``developer`` and ``days`` × 10 deliveries of it, ten a day over the last
    ``days`` days, nine in ten delivered a minute after they were queued, each then copied
    ``copies`` times (to other addresses) in one INSERT … SELECT."""
    from django.db import connection

    from notices.models import Delivery
    from notices.services import notice_create

    with transaction.atomic():
        notice = notice_create(
            developer=developer,
            topic=f"test:{developer.slug}",
            key=f"test:{developer.slug}",
            subject="Please stop using these works",
            text="Please stop.",
        )
    now = timezone.now()
    rows = []
    for i in range(days * 10):
        at = now - timedelta(days=i % days, minutes=5)
        delivered = i % 10 != 0
        rows.append(
            Delivery(
                notice=notice,
                recipient=f"r{i}@{developer.slug}.example",
                status=Delivery.Status.DELIVERED if delivered else Delivery.Status.FAILED,
                attempts=1,
                created_at=at,
                delivered_at=at + timedelta(minutes=1) if delivered else None,
            )
        )
    made = Delivery.objects.bulk_create(rows)
    if copies <= 1:
        return
    columns = [f.column for f in Delivery._meta.concrete_fields if not f.primary_key]
    chosen = ", ".join(
        "d.recipient || '-' || n.i" if c == "recipient" else f"d.{c}" for c in columns
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %s) "
            f"INSERT INTO {Delivery._meta.db_table} ({', '.join(columns)}) "
            f"SELECT {chosen} FROM {Delivery._meta.db_table} d CROSS JOIN n "
            "WHERE d.id >= %s AND d.id <= %s",
            [copies - 1, made[0].pk, made[-1].pk],
        )


def test_the_delivery_rates_page_does_not_scroll_sideways(live_server, page, audit, fits):
    """Six-digit counts and a developer's long name: the page stays within the viewport (the
    day-by-day table for screen readers used to stretch it), the chart's labels stay inside
    it, readable and apart, and the table by developer scrolls in its own labelled region."""
    manager = factories.UserFactory(email="registry@example.org", is_registry_manager=True)
    for name, slug, count in [
        (LONG_DEVELOPER, "cgirl", 400),  # 120,000 deliveries
        ("Example AI Ltd", "example-ai", 1),
    ]:
        developer = factories.AIDeveloperFactory(name=name, slug=slug)
        factories.DeveloperContactFactory(developer=developer, email=f"legal@{slug}.example")
        _deliveries(developer, copies=count)

    _sign_in(page, live_server, manager)
    _visit(page, live_server.url + reverse("notices:delivery-stats"), audit)
    assert page.get_by_role("row", name=re.compile(LONG_DEVELOPER)).count() == 1
    assert page.get_by_role("cell", name="108001", exact=True).count() == 1  # delivered
    for width in WIDTHS:
        _check_width(page, fits, width)
        problems = page.evaluate(CHART_TEXTS)
        assert not problems, f"at {width} px:\n" + "\n".join(problems)


# --- The review statistics ---------------------------------------------------------------------


def test_review_statistics_keep_month_labels_apart_and_every_label_in_its_chart(
    live_server, page, audit, fits, creator, guild_staff
):
    """Twelve months under the rate chart, a developer's long name and a four-digit count in
    the bar charts: every label inside its chart, readable, the months apart."""
    from notices.models import Notice

    developer = factories.AIDeveloperFactory(name=LONG_DEVELOPER, slug="cgirl")
    factories.DeveloperContactFactory(developer=developer, email="legal@cgirl.example")
    request = _overdue_acknowledged_request(creator, guild_staff, developer)
    # Many more overdue notices to the same developer, one a month back over the year.
    (first,) = Notice.objects.filter(topic=request.topic)
    now = timezone.now()
    Notice.objects.bulk_create(
        [
            Notice(
                developer=developer,
                topic=request.topic,
                key=f"{request.topic}:extra:{i}",
                kind=Notice.Kind.NOTICE,
                subject=first.subject,
                text=first.text,
                answer_due_at=now - timedelta(days=5 + i % 330),
                created_at=now - timedelta(days=35 + i % 330),
            )
            for i in range(1200)
        ]
    )

    _sign_in(page, live_server, guild_staff)
    _visit(page, live_server.url + reverse("removals-staff:stats"), audit)
    assert page.get_by_role("img", name=re.compile("Answer and compliance rates by month")).count()
    for width in WIDTHS:
        _check_width(page, fits, width)
        problems = page.evaluate(CHART_TEXTS)
        assert not problems, f"at {width} px:\n" + "\n".join(problems)


# --- The admin dashboard's activity table ------------------------------------------------------


def test_the_admin_dashboards_activity_table_fits_its_box(live_server, page, audit, fits):
    """Fifteen recent actions with long values (an address, a hash, a long title): at 1280 px
    the table fits its box without scrolling; at 390 px it scrolls inside its own labelled
    region, never the page."""
    from accounts.models import AuditEvent

    superuser = factories.UserFactory(email="root@example.org", is_superuser=True, is_staff=True)
    for i in range(15):
        AuditEvent.objects.create(
            actor=superuser,
            actor_label=superuser.email,
            action="work.updated",
            object_type="work",
            object_id=str(i),
            object_label=f"“{LONG_DEVELOPER}” report number {i}",
            before={"title": "Untitled", "url": ""},
            after={
                "title": "An Extremely Long Title For A Collected Edition Of Poems " * 2,
                "url": "https://creator.example/works/collected-poems/" + "x" * 60,
                "sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            },
        )

    _sign_in(page, live_server, superuser)
    _visit(page, live_server.url + reverse("portal:admin-dashboard"), audit)
    table = page.get_by_role("region", name=re.compile("last fifteen recorded actions", re.I))
    assert table.get_by_role("row").count() == 16
    for width in WIDTHS:
        _check_width(page, fits, width)
    page.set_viewport_size({"width": 1280, "height": 900})
    assert table.evaluate("el => el.scrollWidth <= el.clientWidth"), "scrolls at 1280 px"


# --- The sweep: every page the demo's roles reach ----------------------------------------------


def _demo_pages():
    """(who, the pages they reach): the demo's creator, guild staff, superuser and developer,
    each page as the demo leaves it (``seed_demo``)."""
    from accounts.models import User
    from disclosures.models import Disclosure
    from notices.models import Delivery, Notice
    from removals.models import RemovalRequest
    from works.models import Work
    from works.selectors import claim_queue
    from works_registry.models import Site

    ada_works = Work.objects.filter(owner__email="ada@demo.example").order_by("pk")
    requests = RemovalRequest.objects.filter(creator__email="ada@demo.example")
    overdue = requests.filter(status="approved").order_by("pk").first()
    draft = requests.filter(status="draft").order_by("pk").first()
    site = Site.objects.filter(owner__email="ada@demo.example").order_by("pk").first()
    disclosure = Disclosure.objects.order_by("pk").first()
    bens_notice = Notice.objects.filter(developer__slug="example-ai-labs").order_by("pk").first()
    pending_claim = claim_queue(User.objects.get(email="staff.wggb@demo.example")).first()
    delivery = Delivery.objects.order_by("pk").first()
    creator = [
        "/",
        "/dashboard/",
        "/me/profile/",
        "/me/memberships/claim/",
        "/works/",
        f"/works/{ada_works[0].public_id}/",
        f"/works/{ada_works[0].public_id}/edit/",
        "/works/new/",
        "/works/imports/new/",
        f"/w/{ada_works[0].public_id}/",
        "/consent/",
        "/consent/bulk/",
        "/consent/grants/",
        "/consent/history/",
        "/consent/mandates/",
        "/consent/snippets/",
        "/requests/",
        f"/requests/{overdue.pk}/",
        f"/requests/{draft.pk}/edit/",
        "/found-in-datasets/",
        "/sites/",
        f"/sites/{site.public_id}/",
        f"/s/{site.public_id}/",
        "/accounts/email/",
    ]
    staff = [
        "/dashboard/staff/",
        "/staff/memberships/",
        "/works/claims/",
        f"/works/claims/{pending_claim.public_id}/",
        "/works/conflicts/",
        "/review/",
        f"/review/{overdue.pk}/",
        "/review/overdue/",
        "/review/stats/",
        "/review/letter/",
        "/review/disclosures/",
        f"/review/disclosures/{disclosure.pk}/",
        "/consent/members/",
        "/requests/for-a-member/",
        "/registry/",
        "/registry/demo-generative/",
        "/registry/deliveries/",
        "/registry/deliveries/stats/",
        f"/registry/deliveries/{delivery.pk}/",
    ]
    superuser = [
        "/dashboard/admin/",
        "/manage/guilds/",
        "/manage/guilds/wggb/",
        "/manage/roles/",
        "/dashboard/registry/",
        "/registry/example-ai-labs/",
        "/registry/deliveries/suppressions/",
        f"/registry/notices/{bens_notice.pk}/",
        "/registry/example-ai-labs/keys/",
        "/registry/demo-generative/disclosures/",
    ]
    developer = [
        "/developer/",
        "/developer/notices/",
        f"/developer/notices/{bens_notice.pk}/",
        "/developer/keys/",
        "/developer/settings/",
        "/developer/disclosures/",
        "/developer/disclosures/new/",
        "/developer/registry-export/",
    ]
    return [
        ("ada@demo.example", creator),
        ("staff.wggb@demo.example", staff),
        ("admin@demo.example", superuser),
        ("dev@demo.example", developer),
    ]


def test_every_page_the_demo_roles_reach_fits_a_laptop_and_a_phone(live_server, page, audit, fits):
    """Each page once, audited by axe-core, then at 1280 and 390 px: every failure is listed
    (who, which page, which width), not only the first."""
    from io import StringIO

    from django.core.management import call_command

    from accounts.models import User

    call_command("seed_demo", stdout=StringIO())
    failures = []
    for email, paths in _demo_pages():
        page.context.clear_cookies()
        _sign_in(page, live_server, User.objects.get(email=email))
        for path in paths:
            try:
                _visit(page, live_server.url + path, audit)
                for width in WIDTHS:
                    _check_width(page, fits, width)
            except AssertionError as error:
                failures.append(f"{email} {path}: " + " | ".join(str(error).splitlines()[:3]))
            page.set_viewport_size({"width": 390, "height": 844})
    assert not failures, "\n".join(failures)
