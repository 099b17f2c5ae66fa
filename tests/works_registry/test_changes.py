"""The change feed (works_registry.changes): which changes list which works, for whom, with what
answer, and how pages and cursors behave. The replay property is test_changes_replay.py; the
HTTP endpoint test_changes_api.py."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import account_delete, profile_update
from consent import services as consent
from consent.models import LicenceGrant
from tests import factories
from works import services as works
from works.models import Work
from works_registry import changes
from works_registry.changes import Position, changes_page


@pytest.fixture
def developer(db):
    return factories.AIDeveloperFactory(name="Example AI Ltd")


@pytest.fixture
def other_developer(db):
    return factories.AIDeveloperFactory(name="Other Models Inc")


def _work(owner, title="The Long Shore"):
    return works.work_create(owner=owner, title=title, kind="book")


def licence(owner, developer, ref, *, uses=("train-genai",), works=None, starts_on=None, **dates):
    """A licence grant from ``owner`` to ``developer`` (all their works unless ``works``), in
    force from today unless ``starts_on`` says otherwise, through the service."""
    return consent.grant_create(
        actor=owner,
        owner=owner,
        developer=developer,
        uses=list(uses),
        licence_ref=ref,
        starts_on=starts_on or timezone.localdate(),
        works=works,
        **dates,
    )


def follow(developer, position, limit=changes.MAX_LIMIT):
    """Every entry from ``position`` to the end, page by page, and where the feed ends."""
    entries = []
    for _ in range(1000):
        page = changes_page(developer=developer, position=position, limit=limit)
        entries.extend(page.results)
        position = page.position
        if not page.more:
            return entries, position
    raise AssertionError("the feed never ended")


def end_of_feed(developer):
    return follow(developer, Position(0, 0))[1]


def listed(entries):
    return [entry["public_id"] for entry in entries]


def test_an_override_lists_its_work_with_the_new_decision(creator, developer):
    work, other = _work(creator), _work(creator, "Another")
    start = end_of_feed(developer)
    consent.override_set(actor=creator, work=work, choices={"train-ai": "allow"})

    entries, _ = follow(developer, start)

    assert listed(entries) == [work.public_id]
    assert entries[0]["removed"] is False
    assert entries[0]["work"]["decision"]["train-ai"]["choice"] == "allow"
    assert other.public_id not in listed(entries)


def test_a_default_lists_every_work_of_the_creator_and_no_one_elses(
    creator, other_creator, developer
):
    owned = [_work(creator, f"Theirs {n}") for n in range(3)]
    theirs = _work(other_creator)
    start = end_of_feed(developer)
    consent.defaults_set(actor=creator, owner=creator, choices={"train-ai": "allow"})

    entries, _ = follow(developer, start)

    assert sorted(listed(entries)) == sorted(w.public_id for w in owned)
    assert theirs.public_id not in listed(entries)
    assert {e["work"]["decision"]["train-ai"]["choice"] for e in entries} == {"allow"}


def test_a_default_of_many_works_is_listed_across_pages_resuming_inside_it(creator, developer):
    owned = [_work(creator, f"Work {n}") for n in range(7)]
    start = end_of_feed(developer)
    consent.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    later = _work(creator, "Created after the default")

    pages = []
    position = start
    while True:
        page = changes_page(developer=developer, position=position, limit=3)
        pages.append(listed(page.results))
        position = page.position
        if not page.more:
            break

    # Their works in order of registration, three a page — the one registered since too, as
    # the default is read when the page is; its own change is then not listed again.
    assert pages == [
        [w.public_id for w in owned[:3]],
        [w.public_id for w in owned[3:6]],
        [owned[6].public_id, later.public_id],
    ]


def test_a_cursor_inside_a_default_resumes_there_after_new_changes(creator, developer):
    owned = [_work(creator, f"Work {n}") for n in range(4)]
    start = end_of_feed(developer)
    consent.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    first = changes_page(developer=developer, position=start, limit=2)
    consent.override_set(actor=creator, work=owned[0], choices={"search": "allow"})

    rest, _ = follow(developer, first.position)

    assert listed(first.results) == [w.public_id for w in owned[:2]]
    assert listed(rest) == [w.public_id for w in owned[2:]] + [owned[0].public_id]
    assert rest[-1]["work"]["decision"]["search"]["choice"] == "allow"


def test_a_creator_resumed_inside_a_page_is_listed_again_for_their_next_change(creator, developer):
    """A page that ended inside their default's works, then their next default: the next page
    lists the rest of the first, and then *all* their works again for the second."""
    owned = [_work(creator, f"Work {n}") for n in range(2)]
    start = end_of_feed(developer)
    consent.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    first = changes_page(developer=developer, position=start, limit=2)
    consent.defaults_set(actor=creator, owner=creator, choices={"style": "allow"})

    rest, _ = follow(developer, first.position, limit=2)

    assert first.more is True
    assert sorted(listed(rest)) == sorted(w.public_id for w in owned)
    assert {e["work"]["decision"]["style"]["choice"] for e in rest} == {"allow"}


def test_a_licence_concerns_its_developer_only(creator, developer, other_developer):
    work = _work(creator)
    start, other_start = end_of_feed(developer), end_of_feed(other_developer)
    licence(creator, developer, "LIC-7", works=[work])

    mine, _ = follow(developer, start)
    theirs, _ = follow(other_developer, other_start)

    assert listed(mine) == [work.public_id]
    assert mine[0]["work"]["decision"]["train-genai"] == {
        "choice": "allow",
        "source": "grant",
        "licence_ref": "LIC-7",
    }
    assert theirs == []


def test_a_licence_for_all_works_lists_them_all_for_its_developer(
    creator, developer, other_developer
):
    owned = [_work(creator, f"Work {n}") for n in range(3)]
    start, other_start = end_of_feed(developer), end_of_feed(other_developer)
    grant = licence(creator, developer, "ALL-1", uses=["train-ai"])
    entries, middle = follow(developer, start)
    consent.grant_revoke(actor=creator, grant=grant)
    revoked, _ = follow(developer, middle)

    assert sorted(listed(entries)) == sorted(w.public_id for w in owned)
    assert {e["work"]["decision"]["train-ai"]["source"] for e in entries} == {"grant"}
    assert sorted(listed(revoked)) == sorted(w.public_id for w in owned)
    assert {e["work"]["decision"]["train-ai"]["source"] for e in revoked} == {"built-in"}
    assert follow(other_developer, other_start)[0] == []


def test_a_licence_that_ended_by_its_date_is_listed_before_the_hourly_job(creator, developer):
    work = _work(creator)
    today = timezone.localdate()
    grant = licence(
        creator,
        developer,
        "LIC-8",
        works=[work],
        starts_on=today - timedelta(days=10),
        ends_on=today,
    )
    start = end_of_feed(developer)
    # A day passes: the licence's last day is now yesterday, and nothing was written.
    LicenceGrant.objects.filter(pk=grant.pk).update(
        starts_on=today - timedelta(days=11), ends_on=today - timedelta(days=1)
    )

    entries, _ = follow(developer, start)

    assert listed(entries) == [work.public_id]
    assert entries[0]["work"]["decision"]["train-genai"]["source"] != "grant"
    assert LicenceGrant.objects.get(pk=grant.pk).end_recorded_at is not None


def test_claim_status_and_new_works_are_listed(creator, guild_staff, developer):
    work = _work(creator)
    start = end_of_feed(developer)
    works.claim_request(actor=creator, work=work, statement="My publisher's letter.")
    works.claim_decide(actor=guild_staff, work=work, verify=True)
    works.work_set_status(actor=creator, work=work, archived=True)
    new = _work(creator, "New")

    entries, _ = follow(developer, start)

    assert listed(entries) == [work.public_id, new.public_id]
    assert entries[0]["work"]["claim_state"] == "verified"
    assert entries[0]["work"]["status"] == "archived"  # archived works stay, marked archived
    assert entries[1]["removed"] is False


def test_a_new_credit_name_lists_their_works(creator, developer):
    work = _work(creator)
    start = end_of_feed(developer)
    profile_update(actor=creator, profile=creator.creator_profile, credit_name="A. Author")

    entries, _ = follow(developer, start)

    assert listed(entries) == [work.public_id]
    assert entries[0]["work"]["credit_name"] == "A. Author"


def test_a_deleted_account_lists_its_works_as_removals(creator, other_creator, developer):
    owned = [_work(creator, f"Work {n}") for n in range(2)]
    theirs = _work(other_creator)
    consent.defaults_set(actor=creator, owner=creator, choices={"search": "deny"})
    start = end_of_feed(developer)
    account_delete(actor=creator, user=creator)

    entries, _ = follow(developer, start)

    assert sorted(listed(entries)) == sorted(w.public_id for w in owned)
    assert all(e["removed"] is True and e["work"] is None for e in entries)
    assert theirs.public_id not in listed(entries)
    assert not Work.objects.filter(public_id__in=listed(entries)).exists()


def test_a_change_written_before_an_older_cursor_still_reads_in_order(creator, developer):
    """Entries are listed in the order of their changes, and a work listed twice in one page
    appears once, with its latest answer."""
    work = _work(creator)
    start = end_of_feed(developer)
    consent.override_set(actor=creator, work=work, choices={"style": "allow"})
    consent.override_set(actor=creator, work=work, choices={"style": "deny"})

    entries, _ = follow(developer, start)

    assert listed(entries) == [work.public_id]
    assert entries[0]["work"]["decision"]["style"]["choice"] == "deny"


def test_a_read_page_ends_where_the_next_starts(creator, developer):
    _work(creator)
    end = end_of_feed(developer)

    page = changes_page(developer=developer, position=end)

    assert page.results == [] and page.more is False and page.position == end


def test_cursors_round_trip_and_refuse_anything_else():
    position = Position(12, 34, 56)
    cursor = changes.cursor_encode(position)

    assert changes.cursor_decode(cursor) == position
    for bad in ("", "abc", cursor[:-1] + ("A" if cursor[-1] != "A" else "B"), cursor + "x"):
        with pytest.raises(changes.CursorInvalid):
            changes.cursor_decode(bad)


def test_a_forged_cursor_payload_is_refused():
    from django.core import signing

    for payload in ([1, 2], [1, 2, "3"], [-1, 2, 3], [1, 2, -2], {"a": 1}, [1.5, 2, 3]):
        forged = signing.Signer(salt=changes._SALT).sign_object(payload)
        with pytest.raises(changes.CursorInvalid):
            changes.cursor_decode(forged)


def _queries_for_a_page(developer, position) -> int:
    with CaptureQueriesContext(connection) as queries:
        changes_page(developer=developer, position=position)
    return len(queries)


def test_queries_for_a_page_do_not_grow_with_the_changes(creator, other_creator, developer):
    start = end_of_feed(developer)
    for n in range(3):
        work = _work(creator, f"A {n}")
        consent.override_set(actor=creator, work=work, choices={"search": "deny"})
    consent.defaults_set(actor=creator, owner=creator, choices={"train-ai": "allow"})
    few = _queries_for_a_page(developer, start)

    for n in range(30):
        owner = creator if n % 2 else other_creator
        work = _work(owner, f"B {n}")
        consent.override_set(actor=owner, work=work, choices={"search": "deny"})
        if n % 5 == 0:
            consent.defaults_set(
                actor=owner, owner=owner, choices={"style": "deny" if n % 10 else "allow"}
            )
    many = _queries_for_a_page(developer, start)

    assert many == few


# --- Sites ---------------------------------------------------------------------------------------


def _site(owner, address="https://ada.example/"):
    from tests.works_registry.test_sites_lookup import verified_site

    return verified_site(owner, address)


def test_a_site_verified_then_suspended_is_listed_then_removed(creator, developer):
    from works_registry import sites_services

    start = end_of_feed(developer)
    site = _site(creator)
    verified, middle = follow(developer, start)
    sites_services.site_suspend(site=site, now=timezone.now(), reason="The token is gone.")
    suspended, _ = follow(developer, middle)

    assert [(e["type"], e["public_id"], e["removed"]) for e in verified] == [
        ("site", site.public_id, False)
    ]
    assert verified[0]["site"]["host"] == "ada.example"
    assert verified[0]["site"]["decision"]["train-ai"]["choice"] == "deny"
    assert [(e["type"], e["removed"], e["site"]) for e in suspended] == [("site", True, None)]


def test_a_verified_site_proved_again_another_way_is_listed_with_its_new_method(creator, developer):
    from works_registry import sites_proof, sites_services

    site = _site(creator)  # proved by the file
    start = end_of_feed(developer)
    proof = sites_proof.Proof(ok=True, method="meta", message="Found the meta tag.")
    sites_services._record(site.pk, proof, timezone.now())
    again, _ = follow(developer, start)

    assert [(e["public_id"], e["site"]["method"]) for e in again] == [(site.public_id, "meta")]


def test_a_pending_site_is_not_listed(creator, developer):
    from works_registry import sites_services

    start = end_of_feed(developer)
    sites_services.site_declare(actor=creator, address="https://ada.example/")

    assert follow(developer, start)[0] == []


def test_their_default_and_an_all_works_licence_list_their_sites(
    creator, developer, other_developer
):
    site = _site(creator)
    start, other_start = end_of_feed(developer), end_of_feed(other_developer)
    consent.defaults_set(actor=creator, owner=creator, choices={"train-ai": "allow"})
    middle, other_middle = follow(developer, start), follow(other_developer, other_start)
    licence(creator, developer, "ALL-2", uses=["search"])
    licensed, _ = follow(developer, middle[1])

    for entries, _ in (middle, other_middle):
        assert [(e["type"], e["public_id"]) for e in entries] == [("site", site.public_id)]
        assert entries[0]["site"]["decision"]["train-ai"]["choice"] == "allow"
    assert [e["public_id"] for e in licensed] == [site.public_id]
    assert licensed[0]["site"]["decision"]["search"]["licence_ref"] == "ALL-2"
    assert follow(other_developer, other_middle[1])[0] == []


def test_a_deleted_account_lists_their_sites_as_removals(creator, developer):
    site = _site(creator)
    work = _work(creator)
    start = end_of_feed(developer)
    account_delete(actor=creator, user=creator)

    entries, _ = follow(developer, start)

    assert sorted((e["type"], e["public_id"], e["removed"]) for e in entries) == sorted(
        [("site", site.public_id, True), ("work", work.public_id, True)]
    )
