"""Title + author matching: which registered works a row naming a title and an author means.

A manifest row with ``title`` and ``author`` (a disclosure's, issue 17) matches a work when the
work's folded title (``Work.title_folded``) equals the row's title folded by ``fold_title``, and
one of its creator's folded names (``CreatorName``: credit name, display name or a pseudonym)
equals the row's author folded by ``fold`` — so case, accents, punctuation, spacing and a
leading article do not count (``accounts/folding.py``). A title alone never matches: the same
title by another creator is another work. This is weaker evidence than an identifier: callers
mark such findings ``weak``.

Which works answer: every registered work, active or archived, whatever its claim state, as in
the bulk lookup (``works_registry.lookup``).

Queries do not grow with the rows: one for every ``CHUNK`` distinct (title, author) pairs, each
through the ``title_folded`` index and the ``(profile, name_folded)`` unique index.
"""

from accounts.folding import fold, fold_title
from works.models import Work

CHUNK = 5_000  # distinct folded pairs per query: two IN lists of at most this many values


def title_author_matches(pairs: dict[tuple[str, str], list[int]]) -> dict[int, set[int]]:
    """``pairs``: raw ``(title, author)`` as a manifest row holds them → the indexes of the rows
    holding them. Returns ``{row index: {work pk, …}}`` for the rows that match a work; a row
    whose title or author folds to nothing matches nothing."""
    rows_of: dict[tuple[str, str], list[int]] = {}
    for (title, author), indexes in pairs.items():
        key = (fold_title(title or ""), fold(author or ""))
        if key[0] and key[1]:
            rows_of.setdefault(key, []).extend(indexes)
    keys = sorted(rows_of)
    found: dict[int, set[int]] = {}
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start : start + CHUNK]
        wanted = set(chunk)
        candidates = (
            Work.objects.filter(
                title_folded__in=sorted({title for title, _ in chunk}),
                owner__creator_profile__folded_names__name_folded__in=sorted(
                    {author for _, author in chunk}
                ),
            )
            .order_by()
            .values_list("pk", "title_folded", "owner__creator_profile__folded_names__name_folded")
        )
        # The query matches titles and names separately (any title of the chunk by a creator
        # with any name of the chunk): only the pairs a row asked for count.
        for pk, title, author in candidates:
            if (title, author) in wanted:
                for index in rows_of[(title, author)]:
                    found.setdefault(index, set()).add(pk)
    return found
