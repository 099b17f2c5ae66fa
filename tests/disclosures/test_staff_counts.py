"""Guild staff's view of disclosures: per disclosure, how many of their members' works were
found (dismissed ones apart), what the members decided, how many removal requests followed —
submitted by the members found, naming that developer, after the disclosure — and a chart of
both over time; superusers see every guild; another guild's staff see nothing of a creator who
is not their member; creators, developers and anonymous visitors get nothing."""

import hashlib
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from disclosures import staff_stats
from disclosures.models import Disclosure, Finding
from removals import services as removal_services
from tests import factories

LIST = reverse("disclosures-staff:list")


def detail(disclosure) -> str:
    return reverse("disclosures-staff:detail", args=[disclosure.pk])


def disclosed(developer, name, *, state=Disclosure.State.DONE, days_ago=3) -> Disclosure:
    disclosure = Disclosure.objects.create(
        developer=developer,
        name=name,
        version="2026-11",
        uses=["train-genai"],
        via=Disclosure.Via.API,
        manifest_name=f"{name}.csv",
        manifest_sha256=hashlib.sha256(name.encode()).hexdigest(),
        manifest_size=100,
        state=state,
    )
    Disclosure.objects.filter(pk=disclosure.pk).update(
        created_at=timezone.now() - timedelta(days=days_ago)
    )
    disclosure.refresh_from_db()
    return disclosure


def found(disclosure, work, row, state=Finding.State.NEW) -> Finding:
    return Finding.objects.create(
        disclosure=disclosure, row=row, work=work, kind="isbn", value=str(row), state=state
    )


def request_to(creator, works, developers=(), *, all_developers=False, submit=True, ago=None):
    made = removal_services.draft_create(actor=creator, creator=creator, title="From the dataset")
    removal_services.draft_update(
        actor=creator,
        request=made,
        works=works,
        developers=list(developers),
        all_developers=all_developers,
        asks=["cease", "datasets"],
    )
    if submit:
        removal_services.request_submit(actor=creator, request=made, good_faith=True, accurate=True)
    if ago is not None:
        type(made).objects.filter(pk=made.pk).update(created_at=timezone.now() - ago)
    return made


@pytest.fixture
def world(creator, other_creator, wggb, mu):
    """Alice (creator, WGGB) and Bob (other_creator, MU), Carol in both guilds, Dan in none.

    "Crawl" by Example AI: Alice's three works (one confirmed, one new, one dismissed as not
    theirs, found in two rows), Bob's, Carol's and Dan's. "Songs" by Other Models: Bob's only.
    A still-running disclosure of Alice's does not count yet.

    Requests: Alice — one submitted after "Crawl" naming Example AI (counts), a draft naming it
    (theirs alone: does not count), one naming only Other Models (not this developer), one from
    before the disclosure. Bob — one to every developer after both disclosures."""
    example = factories.AIDeveloperFactory(name="Example AI Ltd", slug="example-ai")
    other = factories.AIDeveloperFactory(name="Other Models Inc", slug="other-models")
    carol = factories.CreatorProfileFactory(user__email="carol@example.org").user
    factories.MembershipFactory(user=carol, guild=wggb, verified=True)
    factories.MembershipFactory(user=carol, guild=mu, verified=True)
    dan = factories.CreatorProfileFactory(user__email="dan@example.org").user

    def work(owner, title):
        return factories.WorkFactory(owner=owner, title=title)

    alice = [work(creator, t) for t in ("Salt", "Signal", "Not Mine")]
    bob = work(other_creator, "Bass Lines")
    carols = work(carol, "Carol's Book")
    dans = work(dan, "Dan's Film")

    crawl = disclosed(example, "Crawl")
    found(crawl, alice[0], 1, Finding.State.CONFIRMED)
    found(crawl, alice[1], 2)
    found(crawl, alice[1], 3)  # the same work in a second row
    found(crawl, alice[2], 4, Finding.State.DISMISSED)
    found(crawl, bob, 5)
    found(crawl, carols, 6)
    found(crawl, dans, 7)
    songs = disclosed(other, "Songs")
    found(songs, bob, 1)
    running = disclosed(example, "Running", state=Disclosure.State.RUNNING)
    found(running, alice[0], 1)

    request_to(creator, alice[:1], [example])
    request_to(creator, alice[:1], [example], submit=False)
    request_to(creator, alice[1:2], [other])
    request_to(creator, alice[:1], [example], ago=timedelta(days=10))
    request_to(other_creator, [bob], all_developers=True)
    return {"crawl": crawl, "songs": songs, "running": running, "example": example}


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def figures(response) -> dict[str, staff_stats.Figures]:
    return {d.name: d.figures for d in response.context["page"]}


def test_staff_see_their_members_works_and_the_requests_that_followed(world, guild_staff):
    response = client_for(guild_staff).get(LIST)

    assert response.status_code == HTTPStatus.OK
    got = figures(response)
    assert list(got) == ["Crawl"]  # "Songs" names none of theirs; "Running" is not done
    # Alice's two works (the dismissed one apart) and Carol's; Bob and Dan are not theirs.
    assert got["Crawl"] == staff_stats.Figures(
        works=3, creators=2, findings=4, confirmed=1, dismissed=1, requests=1
    )
    html = response.content.decode()
    assert "Members' works in datasets" in html
    assert "Example AI Ltd" in html
    assert "Songs" not in html and "Running" not in html


def test_another_guilds_staff_see_only_their_own_members(world, other_guild_staff):
    got = figures(client_for(other_guild_staff).get(LIST))

    assert got == {
        "Songs": staff_stats.Figures(works=1, creators=1, findings=1, requests=1),
        # Bob's and Carol's: nothing of Alice's, nor Alice's requests.
        "Crawl": staff_stats.Figures(works=2, creators=2, findings=2, requests=1),
    }


def test_superusers_see_every_creator(world, superuser):
    got = figures(client_for(superuser).get(LIST))

    assert got["Crawl"] == staff_stats.Figures(
        works=5, creators=4, findings=6, confirmed=1, dismissed=1, requests=2
    )
    assert got["Songs"].requests == 1


def test_a_disclosures_page_counts_by_guild_and_over_time(world, guild_staff, superuser):
    response = client_for(guild_staff).get(detail(world["crawl"]))

    assert response.status_code == HTTPStatus.OK
    assert response.context["totals"].works == 3
    rows = {row.guild.slug: row.figures for row in response.context["rows"]}
    assert rows == {
        "wggb": staff_stats.Figures(
            works=3, creators=2, findings=4, confirmed=1, dismissed=1, requests=1
        )
    }
    periods = response.context["periods"]
    assert response.context["weekly"]  # three days old: by week
    assert sum(p.works for p in periods) == 3 and sum(p.requests for p in periods) == 1
    html = response.content.decode()
    assert '<svg viewBox="0 0 480 248" role="img"' in html
    assert "Works found, " in html and "Removal requests that followed, " in html

    # A superuser: every guild, Carol in both rows; Dan in the totals only.
    response = client_for(superuser).get(detail(world["crawl"]))
    rows = {row.guild.slug: row.figures for row in response.context["rows"]}
    assert rows["wggb"].creators == 2 and rows["mu"].creators == 2
    assert rows["mu"].works == 2 and rows["mu"].requests == 1
    assert response.context["totals"].creators == 4


def test_an_older_disclosures_page_counts_by_month(world, superuser):
    old = disclosed(world["example"], "Old Crawl", days_ago=120)
    found(old, factories.WorkFactory(title="Old Book"), 1)
    Finding.objects.filter(disclosure=old).update(created_at=old.created_at)

    response = client_for(superuser).get(detail(old))

    assert not response.context["weekly"]
    periods = response.context["periods"]
    disclosed_month = timezone.localtime(old.created_at).date().replace(day=1)
    assert periods[0].start == disclosed_month  # from the month it was disclosed
    assert [p.works for p in periods] == [1] + [0] * (len(periods) - 1)
    assert "by month" in response.content.decode()


def test_the_chart_by_month_counts_this_months_finds_and_requests(world, guild_staff):
    months = client_for(guild_staff).get(LIST).context["months"]

    assert len(months) == 12
    this_month = months[-1]
    assert this_month.start == timezone.localdate().replace(day=1)
    # Alice's two works and Carol's one; Alice's request after "Crawl" (not the draft, not the
    # one naming another developer, not the one made before the disclosure).
    assert this_month.works == 3
    assert this_month.requests == 1
    assert sum(m.works for m in months) == 3


@pytest.mark.parametrize("who", ["creator", "charlie", "developer", "registry_manager"])
def test_anyone_but_staff_is_refused(world, who, request):
    if who == "developer":
        user = factories.DeveloperMemberFactory(developer=world["example"]).user
    else:
        user = request.getfixturevalue(who)
    client = client_for(user)

    assert client.get(LIST).status_code == HTTPStatus.FORBIDDEN
    assert client.get(detail(world["crawl"])).status_code == HTTPStatus.FORBIDDEN


def test_anonymous_visitors_are_sent_to_sign_in(world):
    for url in (LIST, detail(world["crawl"])):
        response = Client().get(url)
        assert response.status_code == HTTPStatus.FOUND
        assert response["Location"].startswith(reverse("account_login"))


def test_a_disclosure_without_their_members_is_a_404(world, guild_staff, other_guild_staff):
    assert client_for(guild_staff).get(detail(world["songs"])).status_code == 404
    assert client_for(guild_staff).get(detail(world["running"])).status_code == 404
    missing = reverse("disclosures-staff:detail", args=[999999])
    assert client_for(other_guild_staff).get(missing).status_code == 404


def test_staff_who_are_no_longer_staff_see_nothing(world, guild_staff):
    from accounts.models import GuildStaffAppointment

    GuildStaffAppointment.objects.filter(user=guild_staff).update(revoked_at=timezone.now())
    client = client_for(guild_staff)
    assert client.get(LIST).status_code == HTTPStatus.FORBIDDEN
    assert client.get(detail(world["crawl"])).status_code == HTTPStatus.FORBIDDEN


def test_the_staff_dashboard_links_to_the_page(world, guild_staff):
    response = client_for(guild_staff).get(reverse("portal:staff-dashboard"))
    assert f'href="{LIST}"' in response.content.decode()


def test_the_list_costs_the_same_queries_for_many_disclosures(
    world, guild_staff, creator, django_assert_max_num_queries
):
    client = client_for(guild_staff)
    client.get(LIST)  # warm: session, roles
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(LIST)
    work = factories.WorkFactory(owner=creator, title="Everywhere")
    for n in range(20):
        found(disclosed(world["example"], f"More{n}", days_ago=n), work, 1)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(LIST)
    assert len(response.context["page"]) == 21
