"""The change feed's replay property (docs/api.md, "Export" and "Change feed"): a client that loads
an export and then follows the feed from its cursor holds exactly the current answers for
itself — whatever happened before and after the export, and however the client paged.

Hypothesis draws random sequences of what changes answers — overrides, defaults, bulk applies,
licences created (for this developer or another, for chosen works or all, starting or ending
on any day) and revoked, days passing (a licence expiring or starting by its date writes
nothing), claims requested, verified and rejected, works archived, restored and registered,
credit names, sites verified, suspended and removed, an account deleted — with the export taken
at a random point and pages of the feed read in between at random sizes (or to its end). Each
example runs in a transaction rolled back at its end.
"""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.services import account_delete, profile_update
from consent import services as consent
from consent.models import LicenceGrant
from consent.vocabulary import USES
from tests import factories
from tests.works_registry.test_export import read_export
from works import services as works
from works.models import Work
from works_registry import changes, export, sites_services
from works_registry.lookup import work_objects
from works_registry.models import Site

CHOICES = ["allow", "deny", "licence"]
OPERATIONS = [
    "override",
    "default",
    "bulk",
    "grant",
    "revoke",
    "day",
    "claim",
    "archive",
    "create",
    "credit",
    "site",
    "site status",
    "delete",
    "read",
    "follow",
]
# Drawn more often: licences and days passing, whose effect shows only when the client has
# read the licence before the day passes.
WEIGHTED = OPERATIONS + ["grant", "grant", "day", "day", "follow"]


def _plain(value):
    return json.loads(json.dumps(value))


def current(developer) -> dict:
    """The answers now, by (type, public id): what the client must end up holding."""
    objects = work_objects(Work.objects.values_list("pk", flat=True), developer=developer)
    held = {("work", work["public_id"]): _plain(work) for work in objects.values()}
    sites = changes.site_objects(
        Site.objects.values_list("public_id", flat=True), developer=developer
    )
    return held | {("site", public_id): _plain(site) for public_id, site in sites.items()}


class Client:
    """What a pipeline keeps: the answers it holds and where it is in the feed."""

    def __init__(self, developer, found):
        header, entries = read_export(found)
        self.developer = developer
        self.position = changes.cursor_decode(header["cursor"])
        self.held = {}
        for entry in entries:
            self.apply(entry)

    def apply(self, entry: dict) -> None:
        key = (entry["type"], entry["public_id"])
        if entry["removed"]:
            self.held.pop(key, None)
        else:
            self.held[key] = _plain(entry[entry["type"]])

    def read(self, limit: int) -> bool:
        page = changes.changes_page(developer=self.developer, position=self.position, limit=limit)
        for entry in page.results:
            self.apply(entry)
        self.position = page.position
        return page.more

    def follow(self) -> None:
        for _ in range(10_000):
            if not self.read(changes.MAX_LIMIT):
                return
        raise AssertionError("the feed never ended")


class World:
    """The creators, their works and the licences, as the operations change them."""

    def __init__(self, creators, staff, developer, other):
        self.creators = creators  # [(user, the staff of their guild)]
        self.staff = staff
        self.developers = [developer, other]
        self.deleted: set[int] = set()
        self.grants: list[LicenceGrant] = []

    def live(self):
        return [c for c in self.creators if c.pk not in self.deleted]

    def works_of(self, creator):
        return list(Work.objects.filter(owner=creator).order_by("pk"))

    def run(self, data, operation: str, client) -> None:
        draw = data.draw
        live = self.live()
        if operation in ("read", "follow"):
            if client is not None and operation == "read":
                client.read(draw(st.integers(1, 4), label="limit"))
            elif client is not None:
                client.follow()
            return
        if not live:
            return
        creator = draw(st.sampled_from(live), label="creator")
        mine = self.works_of(creator)
        today = timezone.localdate()
        if operation == "create" or not mine:
            works.work_create(owner=creator, title=f"Work {len(mine)}", kind="book")
        elif operation == "override":
            work = draw(st.sampled_from(mine))
            use = draw(st.sampled_from(USES))
            choice = draw(st.sampled_from([*CHOICES, None]))
            consent.override_set(actor=creator, work=work, choices={use: choice})
        elif operation == "default":
            use = draw(st.sampled_from(USES))
            choice = draw(st.sampled_from(CHOICES))
            consent.defaults_set(actor=creator, owner=creator, choices={use: choice})
        elif operation == "bulk":
            chosen = draw(st.lists(st.sampled_from(mine), min_size=1, unique_by=lambda w: w.pk))
            consent.bulk_apply(
                actor=creator,
                owner=creator,
                works=chosen,
                use=draw(st.sampled_from(USES)),
                choice=draw(st.sampled_from([*CHOICES, None])),
            )
        elif operation == "grant":
            starts = today + timedelta(days=draw(st.integers(-2, 1)))
            ends = draw(st.none() | st.integers(0, 2))  # from today: it ends as days pass
            all_works = draw(st.booleans())
            chosen = None if all_works else draw(st.lists(st.sampled_from(mine), min_size=1))
            self.grants.append(
                consent.grant_create(
                    actor=creator,
                    owner=creator,
                    developer=draw(st.sampled_from(self.developers[:1] * 2 + self.developers)),
                    uses=draw(st.lists(st.sampled_from(USES), min_size=1, max_size=2)),
                    licence_ref=f"LIC-{len(self.grants)}",
                    starts_on=starts,
                    ends_on=None if ends is None else today + timedelta(days=ends),
                    works=chosen,
                )
            )
        elif operation == "revoke":
            standing = list(LicenceGrant.objects.filter(revoked_at__isnull=True))
            if standing:
                consent.grant_revoke(actor=creator, grant=draw(st.sampled_from(standing)))
        elif operation == "day":
            # Days pass: every licence's dates move back as many days, and nothing is written.
            days = timedelta(days=draw(st.integers(1, 3), label="days"))
            for grant in LicenceGrant.objects.all():
                LicenceGrant.objects.filter(pk=grant.pk).update(
                    starts_on=grant.starts_on - days,
                    ends_on=grant.ends_on - days if grant.ends_on else None,
                )
        elif operation == "claim":
            work = draw(st.sampled_from(mine))
            works.claim_request(actor=creator, work=work, statement="My publisher's letter.")
            verify = draw(st.booleans())
            works.claim_decide(
                actor=self.staff[creator.pk],
                work=work,
                verify=verify,
                reason="" if verify else "No.",
            )
        elif operation == "archive":
            work = draw(st.sampled_from(mine))
            works.work_set_status(actor=creator, work=work, archived=not work.is_archived)
        elif operation == "credit":
            name = draw(st.sampled_from(["A. Author", "Ada Quill", ""]))
            profile_update(actor=creator, profile=creator.creator_profile, credit_name=name)
        elif operation == "site":
            site = sites_services.site_declare(
                actor=creator, address=f"https://site{Site.objects.count()}.example/"
            )
            sites_services.site_verify(site=site, method="file", now=timezone.now())
        elif operation == "site status":
            standing = list(Site.objects.filter(owner=creator).exclude(status="removed"))
            if standing:
                site = draw(st.sampled_from(standing))
                change = draw(st.sampled_from(["verify", "suspend", "remove"]))
                if change == "remove":
                    sites_services.site_remove(actor=creator, site=site)
                elif change == "suspend" and site.status == "verified":
                    sites_services.site_suspend(site=site, now=timezone.now(), reason="Gone.")
                elif change == "verify" and site.status != "verified":
                    sites_services.site_verify(site=site, method="meta", now=timezone.now())
        elif operation == "delete" and len(live) > 1:  # one stays, for later operations
            account_delete(actor=creator, user=creator)
            self.deleted.add(creator.pk)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_an_export_then_the_feed_holds_exactly_the_current_answers(
    data, creator, other_creator, guild_staff, other_guild_staff
):
    with transaction.atomic():
        # The personas are shared by every example, each rolled back: read them afresh, so no
        # example sees what a rolled-back one cached on them (a profile, a work).
        creator, other_creator, guild_staff, other_guild_staff = (
            User.objects.get(pk=user.pk)
            for user in (creator, other_creator, guild_staff, other_guild_staff)
        )
        developer = factories.AIDeveloperFactory(name="Example AI Ltd")
        other = factories.AIDeveloperFactory(name="Other Models Inc")
        world = World(
            [creator, other_creator],
            {creator.pk: guild_staff, other_creator.pk: other_guild_staff},
            developer,
            other,
        )
        for owner in (creator, other_creator):
            works.work_create(owner=owner, title="First", kind="book")
        before = data.draw(st.lists(st.sampled_from(WEIGHTED), max_size=8), label="before")
        after = data.draw(st.lists(st.sampled_from(WEIGHTED), max_size=15), label="after")

        for operation in before:
            _attempt(world, data, operation, None)
        client = Client(developer, _export(developer))
        for operation in after:
            _attempt(world, data, operation, client)
        client.follow()

        assert _differences(client.held, current(developer)) == {}
        transaction.set_rollback(True)


def _differences(held: dict, now: dict) -> dict:
    """``{(type, public id): what differs}`` between what the client holds and the answers
    now."""
    found = {}
    for public_id in held.keys() | now.keys():
        mine, theirs = held.get(public_id), now.get(public_id)
        if mine is None or theirs is None:
            found[public_id] = "held only" if theirs is None else "missing"
        elif mine != theirs:
            found[public_id] = {
                key: (mine.get(key), theirs.get(key))
                for key in mine.keys() | theirs.keys()
                if mine.get(key) != theirs.get(key)
            }
    return found


def _export(developer):
    asked = export.export_request(developer=developer)
    return export.export_build(export_id=asked.pk)


def _attempt(world, data, operation, client) -> None:
    """Run one operation; one that the portal refuses (a claim already verified, a licence
    ending before it starts…) changes nothing, and the sequence goes on."""
    try:
        with transaction.atomic():
            world.run(data, operation, client)
    except (ValidationError, PermissionDenied):
        pass
