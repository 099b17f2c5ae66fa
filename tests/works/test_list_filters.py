"""Issue 19, no dead ends: the works list filters by "has a possible conflict" and by AI choice
(per use: allowed, not allowed, only under licence, or the work's default), with the search and
the pages; the dashboard's "possible conflicts" count links to that list. What the filter calls
a work's choice is what ``consent.decisions`` decides for it — checked against it case by case."""

import html
import itertools
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from accounts.folding import fold_title
from consent import services as consent_services
from consent.decisions import decisions_for_works
from consent.models import Preference
from consent.vocabulary import USES
from tests import factories
from works.models import Conflict, Work

LIST = reverse("works:list")


def _titles(response) -> list[str]:
    assert response.status_code == HTTPStatus.OK
    page = response.content.decode()
    found = re.findall(r"<h2><a href=\"/works/[^\"]+/\">([^<]+)</a></h2>", page)
    return [html.unescape(title) for title in found]


def _work(owner, title, **fields):
    return factories.WorkFactory(owner=owner, title=title, title_folded=fold_title(title), **fields)


# --- Conflicts ----------------------------------------------------------------------------------


@pytest.fixture
def conflicted(creator, other_creator):
    """Alice's "Tidewater" shares an ISBN with Bob's book (open); "Low Tide" was in a conflict
    now resolved; "Harbour Songs" was never in one; "Archived Tide" is archived, its conflict
    open (Alice's work second this time)."""
    tidewater = _work(creator, "Tidewater")
    low_tide = _work(creator, "Low Tide")
    _work(creator, "Harbour Songs")
    archived = _work(creator, "Archived Tide", status=Work.Status.ARCHIVED)
    bobs = _work(other_creator, "Bob's Tidewater")
    Conflict.objects.create(work_a=tidewater, work_b=bobs, matches=[{"kind": "isbn"}])
    Conflict.objects.create(work_a=bobs, work_b=archived, matches=[{"kind": "isbn"}])
    Conflict.objects.create(
        work_a=low_tide,
        work_b=_work(other_creator, "Bob's Low Tide"),
        status=Conflict.Status.RESOLVED,
        resolution=Conflict.Resolution.NOT_A_CONFLICT,
    )
    return tidewater


def test_the_list_keeps_the_works_with_a_possible_conflict(client, creator, conflicted):
    client.force_login(creator)
    assert _titles(client.get(LIST, {"conflict": "open"})) == ["Tidewater"]
    assert set(_titles(client.get(LIST, {"conflict": "open", "status": "all"}))) == {
        "Tidewater",
        "Archived Tide",
    }
    everything = client.get(LIST).content.decode()
    assert everything.count("Possible conflict</span>") == 1  # Tidewater's badge, alone


def test_the_dashboards_conflicts_count_links_to_those_works(client, creator, conflicted):
    client.force_login(creator)
    dashboard = client.get(reverse("portal:dashboard")).content.decode()
    link = re.search(
        r"<dt>Possible conflicts with other creators</dt><dd><a href=\"([^\"]+)\">2</a>", dashboard
    )
    assert link, "the count is a link"
    href = link.group(1).replace("&amp;", "&")
    assert set(_titles(client.get(href))) == {"Tidewater", "Archived Tide"}


def test_another_creators_conflicts_are_not_in_the_list(client, other_creator, conflicted):
    client.force_login(other_creator)
    titles = _titles(client.get(LIST, {"conflict": "open"}))
    assert titles == ["Bob's Tidewater"]


# --- AI choices ---------------------------------------------------------------------------------


@pytest.fixture
def choices(creator):
    """Alice's works and their own choices for training generative AI (built-in default: not
    allowed, for training any AI too), chosen through the consent services as on the work's
    page. Training generative AI is a kind of training any AI, so a work allows it only when
    it allows both."""
    works = {
        "Own allow": {"train-genai": "allow", "train-ai": "allow"},
        "No choice": {},
        "Held back by train-ai": {"train-genai": "allow"},
        "Licensed": {"train-genai": "licence", "train-ai": "licence"},
    }
    made = {}
    for title, own in works.items():
        made[title] = _work(creator, title)
        if own:
            consent_services.override_set(actor=creator, work=made[title], choices=own)
    return made


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("allow", {"Own allow"}),
        # train-genai never more open than train-ai: the work's "allow" gives way
        ("deny", {"No choice", "Held back by train-ai"}),
        ("licence", {"Licensed"}),
        ("default", {"No choice"}),
    ],
)
def test_the_list_filters_by_the_effective_choice_for_a_use(
    client, creator, choices, choice, expected
):
    client.force_login(creator)
    response = client.get(LIST, {"ai_use": "train-genai", "ai_choice": choice})
    assert set(_titles(response)) == expected


def test_the_creators_default_counts_for_works_without_a_choice(client, creator, choices):
    consent_services.defaults_set(
        actor=creator, owner=creator, choices={"train-genai": "allow", "train-ai": "allow"}
    )
    client.force_login(creator)
    allowed = _titles(client.get(LIST, {"ai_use": "train-genai", "ai_choice": "allow"}))
    assert set(allowed) == {"Own allow", "No choice", "Held back by train-ai"}
    defaulted = _titles(client.get(LIST, {"ai_use": "train-genai", "ai_choice": "default"}))
    assert defaulted == ["No choice"]  # the others have a choice of their own


def test_the_filter_agrees_with_the_decisions_for_every_case(client, creator):
    """Every combination of a work's own choices for train-genai and train-ai (16 works),
    under defaults that differ from the built-in ones: for each use and choice the list holds
    exactly the works ``consent.decisions`` gives that choice."""
    consent_services.defaults_set(
        actor=creator, owner=creator, choices={"train-ai": "licence", "search": "deny"}
    )
    states = [None, "allow", "deny", "licence"]
    works = []
    for n, (genai, general) in enumerate(itertools.product(states, states)):
        work = _work(creator, f"Case {n:02d}")
        works.append(work)
        own = {"train-genai": genai, "train-ai": general, "search": states[n % 4]}
        own = {use: c for use, c in own.items() if c}
        if own:
            consent_services.override_set(actor=creator, work=work, choices=own)
    decided = decisions_for_works(works)
    client.force_login(creator)
    for use in USES:
        for choice in ("allow", "deny", "licence"):
            expected = {w.title for w in works if decided[w.pk][use].choice == choice}
            shown = _titles(client.get(LIST, {"ai_use": use, "ai_choice": choice}))
            assert set(shown) == expected, (use, choice)


def test_the_filters_combine_with_the_search_and_the_pages(client, creator):
    """60 works named after Ødegård (30 allowed), 5 others: "odegard" finds the first ones
    whatever their accents, the AI filter halves them, and page 2 keeps both filters."""
    for n in range(60):
        work = _work(creator, f"Ødegård study {n:02d}")
        if n % 2:
            Preference.objects.create(owner=creator, work=work, use="ai-input", choice="allow")
    for n in range(5):
        _work(creator, f"Other {n}")
    client.force_login(creator)
    query = {"q": "odegard", "ai_use": "ai-input", "ai_choice": "allow", "sort": "title"}
    first = client.get(LIST, query)
    page = first.content.decode()
    assert "30 works match your filters." in page
    assert len(_titles(first)) == 30
    query["q"] = "ødegård study 1"
    response = client.get(LIST, query)
    assert _titles(response) == [f"Ødegård study {n}" for n in (11, 13, 15, 17, 19)]

    many = {"q": "ODEGARD", "ai_use": "ai-input", "ai_choice": "deny", "sort": "title"}
    for n in range(60, 100):
        _work(creator, f"Ødegård study {n:02d}")  # 30 + 40 without a choice: not allowed
    page = client.get(LIST, many).content.decode()
    assert "70 works match your filters." in page
    next_link = re.search(r'href="\?([^"]*page=2[^"]*)"', page).group(1).replace("&amp;", "&")
    assert "ai_choice=deny" in next_link and "q=ODEGARD" in next_link
    second = _titles(client.get(LIST + "?" + next_link))
    assert len(second) == 20
    assert second[-1] == "Ødegård study 99"


@pytest.mark.parametrize(
    ("params", "field", "error"),
    [
        ({"ai_choice": "allow"}, "ai_use", "Choose the AI use this choice is about."),
        ({"ai_use": "style"}, "ai_choice", "Choose which choice to look for."),
        ({"ai_use": "dance", "ai_choice": "allow"}, "ai_use", "Select a valid choice."),
        ({"ai_use": "style", "ai_choice": "maybe"}, "ai_choice", "Select a valid choice."),
        ({"conflict": "closed"}, "conflict", "Select a valid choice."),
    ],
)
def test_an_incomplete_or_unknown_filter_says_what_is_wrong(
    client, creator, choices, params, field, error
):
    client.force_login(creator)
    response = client.get(LIST, params)
    page = response.content.decode()
    assert error in page
    assert re.search(rf'<select name="{field}"[^>]*aria-invalid="true"', page)
    assert len(_titles(response)) == 4  # nothing filtered by a filter that makes no sense


def test_the_bulk_link_is_offered_only_for_filters_the_bulk_page_repeats(client, creator, choices):
    client.force_login(creator)
    bulk = reverse("consent:bulk")
    assert bulk in client.get(LIST, {"q": "own"}).content.decode()
    for params in ({"ai_use": "train-genai", "ai_choice": "allow"}, {"conflict": "open"}):
        assert bulk not in client.get(LIST, {"q": "own", **params}).content.decode()


@pytest.mark.parametrize("count", [5, 200])
def test_filtering_takes_as_many_queries_whatever_the_catalogue(
    client, creator, other_creator, count, django_assert_max_num_queries
):
    works = Work.objects.bulk_create(
        Work(owner=creator, title=f"Ødegård {n}", title_folded=f"odegard {n}", kind="book")
        for n in range(count)
    )
    Preference.objects.bulk_create(
        Preference(owner=creator, work=work, use="ai-input", choice="allow") for work in works[::2]
    )
    bobs = _work(other_creator, "Bob's")
    for work in works[::3]:
        Conflict.objects.create(work_a=bobs, work_b=work)
    client.force_login(creator)
    query = {"q": "odegard", "ai_use": "ai-input", "ai_choice": "allow", "conflict": "open"}
    client.get(LIST, query)
    with django_assert_max_num_queries(9):
        response = client.get(LIST, query)
    assert len(_titles(response)) == min(len(works[::6]), 50)


def test_anonymous_visitors_are_sent_to_sign_in(client, choices):
    response = client.get(LIST, {"ai_use": "train-genai", "ai_choice": "allow"})
    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].startswith(reverse("account_login"))


def test_another_creator_finds_none_of_alices_works(client, other_creator, choices):
    client.force_login(other_creator)
    for choice in ("allow", "deny", "licence", "default"):
        response = client.get(LIST, {"ai_use": "train-genai", "ai_choice": choice})
        assert _titles(response) == []
