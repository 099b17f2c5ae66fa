"""One imported row checked: the work's fields and its identifiers (normalised), or the list of
(column, message) saying what is wrong with it. Pure: no database."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.folding import fold_title

from ..models import Work
from ..services import identifiers_parse
from .csvfiles import IDENTIFIER_COLUMNS, SCHEME_OF_COLUMN

TITLE_MAX = Work._meta.get_field("title").max_length
DESCRIPTION_MAX = Work._meta.get_field("description").max_length
CO_CREATORS_MAX = Work._meta.get_field("co_creators").max_length

_KINDS = {value.lower(): value for value, _ in Work.Kind.choices} | {
    str(label).lower(): value for value, label in Work.Kind.choices
}
KIND_VALUES = ", ".join(value for value, _ in Work.Kind.choices)


@dataclass
class Row:
    number: int
    title: str
    kind: str
    year: int | None
    description: str
    co_creators: str
    identifiers: dict[str, list[str]]  # scheme → normalised values

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return [(scheme, value) for scheme, values in self.identifiers.items() for value in values]

    @property
    def natural_key(self) -> tuple[str, str, int | None]:
        return (self.title, self.kind, self.year)

    def work(self, owner) -> Work:
        return Work(
            owner=owner,
            title=self.title,
            title_folded=fold_title(self.title),
            kind=self.kind,
            year=self.year,
            description=self.description,
            co_creators=self.co_creators,
        )


def kind_of(text: str) -> str | None:
    """A ``Work.Kind`` value from its value or its label, in any case."""
    return _KINDS.get(" ".join(text.split()).lower())


def parse_row(
    number: int, cells: dict[str, str], *, defaults: dict[str, str] | None = None
) -> Row | list[tuple[str, str]]:
    """The row as a ``Row``, or every (column, message) wrong with it."""
    defaults = defaults or {}
    errors: list[tuple[str, str]] = []

    title = cells.get("title", "").strip() or defaults.get("title", "")
    if not title:
        errors.append(("title", "Give the work a title."))
    elif len(title) > TITLE_MAX:
        errors.append(
            ("title", f"The title is {len(title):,} characters long; the limit is {TITLE_MAX}.")
        )

    kind_text = cells.get("kind", "").strip()
    kind = kind_of(kind_text) if kind_text else defaults.get("kind")
    if not kind:
        if kind_text:
            shown = kind_text if len(kind_text) <= 40 else kind_text[:37] + "…"
            message = f"“{shown}” is not a kind of work we know. Use one of: {KIND_VALUES}."
        else:
            message = f"Give the kind of work, one of: {KIND_VALUES}."
        errors.append(("kind", message))

    year = None
    year_text = cells.get("year", "").strip()
    if year_text:
        latest = timezone.now().year + 1
        try:
            year = int(year_text.removesuffix(".0"))
        except ValueError:
            year = None
        if year is None or not 1000 <= year <= latest:
            shown = year_text if len(year_text) <= 20 else year_text[:17] + "…"
            errors.append(
                (
                    "year",
                    f"“{shown}” is not a year between 1000 and {latest}; leave it empty "
                    "if you do not know it.",
                )
            )
            year = None

    description = cells.get("description", "").strip()
    if len(description) > DESCRIPTION_MAX:
        errors.append(
            (
                "description",
                f"The description is {len(description):,} characters long; the "
                f"limit is {DESCRIPTION_MAX:,}.",
            )
        )
    co_creators = cells.get("co_creators", "").strip()
    if len(co_creators) > CO_CREATORS_MAX:
        errors.append(
            (
                "co_creators",
                f"The co-creators are {len(co_creators):,} characters long; the "
                f"limit is {CO_CREATORS_MAX:,}.",
            )
        )

    identifiers: dict[str, list[str]] = {}
    for column in IDENTIFIER_COLUMNS:
        text = cells.get(column, "")
        if not text.strip():
            continue
        scheme = SCHEME_OF_COLUMN[column]
        try:
            values = identifiers_parse(scheme=scheme, text=text)
        except ValidationError as exc:
            errors.append((column, exc.messages[0]))
            continue
        if values:
            identifiers[scheme] = values

    if errors:
        return errors
    return Row(
        number=number,
        title=title,
        kind=kind,
        year=year,
        description=description,
        co_creators=co_creators,
        identifiers=identifiers,
    )
