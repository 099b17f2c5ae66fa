"""The decision rules as a table: default, override, grant, grant expiry, the train-ai
implication — each row a situation a creator could be in, and what a developer must read."""

from datetime import date, timedelta

import pytest

from consent import decisions
from consent.models import LicenceGrant, Preference
from tests import factories

TODAY = date(2027, 6, 1)


@pytest.fixture
def setup(creator):
    book = factories.WorkFactory(owner=creator, title="Book", kind="book")
    other_book = factories.WorkFactory(owner=creator, title="Other book", kind="book")
    labs = factories.AIDeveloperFactory(name="Example AI Labs", slug="example-ai-labs")
    rival = factories.AIDeveloperFactory(name="Rival Models", slug="rival-models")
    return {
        "creator": creator,
        "book": book,
        "other_book": other_book,
        "labs": labs,
        "rival": rival,
    }


def default(s, use, choice):
    Preference.objects.create(owner=s["creator"], work=None, use=use, choice=choice)


def override(s, use, choice, work="book"):
    Preference.objects.create(owner=s["creator"], work=s[work], use=use, choice=choice)


def grant(s, uses, *, starts=-10, ends=10, works=None, revoked=False, developer="labs"):
    g = LicenceGrant.objects.create(
        owner=s["creator"],
        developer=s[developer],
        all_works=works is None,
        uses=uses,
        licence_ref="LIC-42",
        starts_on=TODAY + timedelta(days=starts),
        ends_on=None if ends is None else TODAY + timedelta(days=ends),
    )
    if works:
        g.works.set([s[w] for w in works])
    if revoked:
        from django.utils import timezone

        LicenceGrant.objects.filter(pk=g.pk).update(revoked_at=timezone.now())
    return g


# (situation, setup steps, use, developer, expected choice, expected source)
CASES = [
    ("nothing said: AI denied", [], "train-genai", None, "deny", "built-in"),
    ("nothing said: search allowed", [], "search", None, "allow", "built-in"),
    ("default allows", [("default", "ai-input", "allow")], "ai-input", None, "allow", "default"),
    (
        "override beats default",
        [("default", "ai-input", "allow"), ("override", "ai-input", "deny")],
        "ai-input",
        None,
        "deny",
        "override",
    ),
    (
        "override on another work does not apply",
        [("override", "style", "allow", "other_book")],
        "style",
        None,
        "deny",
        "built-in",
    ),
    (
        "licence choice",
        [("default", "train-genai", "licence"), ("default", "train-ai", "licence")],
        "train-genai",
        None,
        "licence",
        "default",
    ),
    (
        "grant to that developer allows",
        [("grant", ["train-genai"])],
        "train-genai",
        "labs",
        "allow",
        "grant",
    ),
    (
        "grant is not for any developer",
        [("grant", ["train-genai"])],
        "train-genai",
        None,
        "deny",
        "built-in",
    ),
    (
        "grant is not for another developer",
        [("grant", ["train-genai"])],
        "train-genai",
        "rival",
        "deny",
        "built-in",
    ),
    (
        "grant beats a deny override",
        [("override", "ai-input", "deny"), ("grant", ["ai-input"])],
        "ai-input",
        "labs",
        "allow",
        "grant",
    ),
    (
        "grant for other uses does not apply",
        [("grant", ["search"])],
        "ai-input",
        "labs",
        "deny",
        "built-in",
    ),
    (
        "grant for some works only",
        [("grant", ["style"], {"works": ["other_book"]})],
        "style",
        "labs",
        "deny",
        "built-in",
    ),
    (
        "grant for this work",
        [("grant", ["style"], {"works": ["book"]})],
        "style",
        "labs",
        "allow",
        "grant",
    ),
    (
        "expired grant",
        [("grant", ["train-genai"], {"starts": -30, "ends": -1})],
        "train-genai",
        "labs",
        "deny",
        "built-in",
    ),
    (
        "grant not started yet",
        [("grant", ["train-genai"], {"starts": 1, "ends": 30})],
        "train-genai",
        "labs",
        "deny",
        "built-in",
    ),
    (
        "grant ending today still counts",
        [("grant", ["train-genai"], {"starts": -3, "ends": 0})],
        "train-genai",
        "labs",
        "allow",
        "grant",
    ),
    (
        "open-ended grant",
        [("grant", ["train-genai"], {"ends": None})],
        "train-genai",
        "labs",
        "allow",
        "grant",
    ),
    (
        "revoked grant",
        [("grant", ["train-genai"], {"revoked": True})],
        "train-genai",
        "labs",
        "deny",
        "built-in",
    ),
    (
        "train-ai deny makes train-genai deny",
        [("default", "train-genai", "allow"), ("default", "train-ai", "deny")],
        "train-genai",
        None,
        "deny",
        "implied",
    ),
    (
        "train-ai licence makes allowed train-genai licence",
        [("override", "train-genai", "allow"), ("override", "train-ai", "licence")],
        "train-genai",
        None,
        "licence",
        "implied",
    ),
    (
        "train-genai may be stricter than train-ai",
        [("default", "train-genai", "deny"), ("default", "train-ai", "allow")],
        "train-genai",
        None,
        "deny",
        "default",
    ),
    (
        "train-ai itself is unaffected",
        [("default", "train-genai", "allow"), ("default", "train-ai", "deny")],
        "train-ai",
        None,
        "deny",
        "default",
    ),
    (
        "a train-ai grant covers train-genai",
        [("grant", ["train-ai"])],
        "train-genai",
        "labs",
        "allow",
        "grant",
    ),
    (
        "a train-genai grant beats the implication",
        [("default", "train-ai", "deny"), ("grant", ["train-genai"])],
        "train-genai",
        "labs",
        "allow",
        "grant",
    ),
    (
        "a train-genai grant does not cover train-ai",
        [("grant", ["train-genai"])],
        "train-ai",
        "labs",
        "deny",
        "built-in",
    ),
]


@pytest.mark.parametrize(
    ("situation", "steps", "use", "developer", "choice", "source"), CASES, ids=[c[0] for c in CASES]
)
def test_decision_rules(setup, situation, steps, use, developer, choice, source):
    for step in steps:
        kind, *args = step
        if kind == "default":
            default(setup, *args)
        elif kind == "override":
            override(setup, *args)
        else:
            grant(setup, args[0], **(args[1] if len(args) > 1 else {}))
    dev = setup[developer] if developer else None
    decision = decisions.decide(setup["book"], use, developer=dev, on=TODAY)
    assert (decision.choice, decision.source) == (choice, source), situation
    if source == "grant":
        assert decision.licence_ref == "LIC-42"


def test_archived_works_keep_their_decisions(setup):
    override(setup, "search", "deny")
    book = setup["book"]
    book.status = "archived"
    book.save()
    assert decisions.decide(book, "search", on=TODAY).choice == "deny"


def test_many_works_cost_a_constant_number_of_queries(setup, creator, django_assert_num_queries):
    works = [factories.WorkFactory(owner=creator) for _ in range(30)]
    works += [factories.WorkFactory() for _ in range(10)]  # other owners
    grant(setup, ["train-genai"], works=["book"])
    with django_assert_num_queries(3):  # defaults and overrides, grants, grant works
        result = decisions.decisions_for_works(
            works + [setup["book"]], developer=setup["labs"], on=TODAY
        )
    assert result[setup["book"].pk]["train-genai"].source == "grant"
    with django_assert_num_queries(1):
        decisions.decisions_for_works(works, on=TODAY)


def test_a_grant_naming_many_works_reads_only_the_works_asked_about(
    setup, creator, django_assert_num_queries
):
    """A pipeline's lookup asks about a few works of creators whose grants name thousands:
    the grant's naming is read for the works asked about only, as ids, never as whole works."""
    many = [factories.WorkFactory(owner=creator) for _ in range(30)]
    g = grant(setup, ["train-genai"], works=["book"])
    g.works.add(*many)
    with django_assert_num_queries(3) as captured:
        result = decisions.decisions_for_works(
            [setup["book"], setup["other_book"]], developer=setup["labs"], on=TODAY
        )
    assert result[setup["book"].pk]["train-genai"].source == "grant"
    assert result[setup["other_book"].pk]["train-genai"].source == "built-in"
    naming = captured.captured_queries[-1]["sql"]
    assert '"works_work"' not in naming


def test_plain_words_say_what_the_decision_means(setup):
    decision = decisions.decide(setup["book"], "train-genai", on=TODAY)
    assert decision.plain("book") == "AI companies may not train generative models on this book."
