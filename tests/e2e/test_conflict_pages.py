"""A conflict across guilds, in a real browser: each creator's work page says a possible
conflict exists without showing the other side; a superuser compares both works and resolves
it with a reason; the creators then read the outcome. axe-core audits every page."""

import re

from works import services
from works.models import Conflict


def test_a_conflict_is_resolved_by_a_superuser_and_each_side_sees_only_its_own(
    live_server, browser_sign_in, page, audit, creator, other_creator, superuser
):
    mine = services.work_create(
        owner=creator,
        title="The Quiet Harbour",
        kind="book",
        identifiers={"isbn": ["9780306406157"]},
    )
    theirs = services.work_create(
        owner=other_creator,
        title="Harbour Songbook",
        kind="book",
        identifiers={"isbn": ["9780306406157"]},
    )
    conflict = Conflict.objects.get()

    browser_sign_in(page, other_creator)
    page.goto(live_server.url + f"/works/{theirs.public_id}/")
    assert page.get_by_text(re.compile("same ISBN", re.I)).first.is_visible()
    content = page.content()
    assert "The Quiet Harbour" not in content and creator.email not in content
    audit(page)
    browser_sign_in.out(page)

    browser_sign_in(page, superuser)
    page.goto(live_server.url + "/works/conflicts/")
    audit(page)
    page.get_by_role("link", name=f"Conflict {conflict.pk}").click()
    page.wait_for_url(re.compile(rf"/works/conflicts/{conflict.pk}/$"))
    audit(page)
    page.get_by_role("radio", name=re.compile("Both stand", re.I)).check()
    page.get_by_label(re.compile("reason", re.I)).first.fill(
        "Text and songbook of the same story: co-authors."
    )
    page.get_by_role("button", name=re.compile("resolve the conflict", re.I)).click()
    page.wait_for_load_state()
    conflict.refresh_from_db()
    assert (conflict.status, conflict.resolution) == ("resolved", "both_stand")
    audit(page)
    browser_sign_in.out(page)

    browser_sign_in(page, creator)
    page.goto(live_server.url + f"/works/{mine.public_id}/")
    assert page.get_by_text(re.compile("Both registrations stand", re.I)).first.is_visible()
    assert page.get_by_text("Text and songbook of the same story: co-authors.").is_visible()
    assert "Harbour Songbook" not in page.content()
    audit(page)
    assert not page.console_errors, page.console_errors
