"""Title + author matching (works_registry/titles.py): a manifest row's title and author match
a work when the folded title and one of its creator's folded names (credit name, display name,
a pseudonym) are equal — never the title alone."""

import pytest

from accounts import services as accounts
from works import services as works
from works.models import Work
from works_registry import titles
from works_registry.titles import title_author_matches


def register(owner, title):
    return works.work_create(owner=owner, title=title, kind="book").pk


@pytest.fixture
def papers(creator):
    """Alice Author's "The Ørsted Papers"; the creator also writes as Ælfrida Quill."""
    accounts.profile_update(
        actor=creator,
        profile=creator.creator_profile,
        display_name="Alice A.",
        pseudonyms="Ælfrida Quill\nA. A.",
    )
    return register(creator, "The Ørsted Papers")


@pytest.mark.parametrize(
    ("title", "author"),
    [
        ("The Ørsted Papers", "Alice Author"),  # as registered
        ("the orsted papers", "ALICE AUTHOR"),  # case and accents
        ("Orsted Papers", "alice author"),  # no leading article
        ("“The Ørsted Papers.”", "Alice  Author,"),  # punctuation and spacing
        ("ØRSTED PAPERS", "Alice Author"),
        ("The Orsted Papers", "Alice A."),  # the display name
        ("The Orsted Papers", "aelfrida quill"),  # a pseudonym, its Æ folded
        ("The Orsted Papers", "A A"),  # another pseudonym, punctuation aside
    ],
)
def test_a_title_and_an_author_written_differently_match_the_work(papers, title, author):
    assert title_author_matches({(title, author): [7]}) == {7: {papers}}


@pytest.mark.parametrize(
    ("title", "author"),
    [
        ("The Ørsted Papers", "Bob Bassist"),  # another creator
        ("The Ørsted Papers", "Alice"),  # part of the name
        ("The Ørsted Papers", ""),  # no author
        ("Ørsted", "Alice Author"),  # part of the title
        ("", "Alice Author"),
        ("The", "Alice Author"),
    ],
)
def test_a_title_with_the_wrong_author_or_none_is_not_a_match(papers, title, author):
    assert title_author_matches({(title, author): [0]}) == {}


def test_the_same_title_by_two_creators_matches_only_the_right_ones(creator, other_creator):
    alices = register(creator, "Harbour")
    bobs = register(other_creator, "Harbour")
    assert title_author_matches(
        {("Harbour", "Bob Bassist"): [1], ("HARBOUR", "alice author"): [2, 3]}
    ) == {1: {bobs}, 2: {alices}, 3: {alices}}


def test_titles_and_authors_asked_together_match_only_in_their_own_pairs(creator, other_creator):
    """Alice's "Dawn" and Bob's "Dusk" asked the other way round: neither matches."""
    register(creator, "Dawn")
    register(other_creator, "Dusk")
    assert title_author_matches({("Dawn", "Bob Bassist"): [1], ("Dusk", "Alice Author"): [2]}) == {}


def test_every_work_of_theirs_with_the_title_answers(creator):
    first, second = register(creator, "Untitled"), register(creator, "Untitled!")
    works.work_set_status(actor=creator, work=Work.objects.get(pk=second), archived=True)
    assert title_author_matches({("untitled", "Alice Author"): [0]}) == {0: {first, second}}


def test_a_renamed_work_and_a_renamed_creator_match_under_their_new_names(creator, papers):
    work = Work.objects.get(pk=papers)
    works.work_update(actor=creator, work=work, title="Les Papiers d’Ørsted")
    accounts.profile_update(
        actor=creator, profile=creator.creator_profile, credit_name="Alice Ørsted"
    )
    assert title_author_matches(
        {
            ("The Ørsted Papers", "Alice Author"): [0],  # both old names
            ("Papiers d'Orsted", "Alice Author"): [1],  # the old credit name
            ("Papiers d'Orsted", "alice orsted"): [2],
        }
    ) == {2: {papers}}


def test_one_query_whatever_the_number_of_pairs(
    creator, other_creator, django_assert_max_num_queries
):
    alices = register(creator, "Harbour")
    with django_assert_max_num_queries(1):
        assert title_author_matches({("Harbour", "Alice Author"): [0]}) == {0: {alices}}
    pairs = {(f"Title {i}", f"Author {i}"): [i] for i in range(4_000)}
    pairs[("Harbour", "Alice Author")] = [4_000]
    with django_assert_max_num_queries(1):
        assert title_author_matches(pairs) == {4_000: {alices}}


def test_pairs_past_one_chunk_are_asked_in_as_many_queries_and_all_found(
    creator, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(titles, "CHUNK", 100)
    mine = {register(creator, f"Poem {i}"): i for i in range(0, 250, 50)}
    pairs = {(f"poem {i}", "Alice Author"): [i] for i in range(250)}
    with django_assert_max_num_queries(3):
        found = title_author_matches(pairs)
    assert found == {i: {pk} for pk, i in mine.items()}
