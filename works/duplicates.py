"""Is this work already in the creator's own catalogue?

Before "Register a work" creates a work, the identifiers typed (ISBN, ISRC, ISWC, DOI, web
addresses, normalised) and the SHA-256 of the chosen file are looked up among the creator's own
works — never another creator's: their works are not revealed here (a clash with another
creator's work becomes a conflict for guild staff, ``works.conflicts``). The creator is told
which works match and how, and may still register the new one.
"""

from dataclasses import dataclass, field

from accounts.models import User

from .identifiers import display
from .models import Work, WorkFile, WorkIdentifier

SHOWN = 10  # more matches than this are counted, not listed


@dataclass
class Duplicate:
    work: Work
    reasons: list[str] = field(default_factory=list)


@dataclass
class Duplicates:
    works: list[Duplicate]
    more: int = 0  # further matching works not listed

    def __bool__(self):
        return bool(self.works)

    def __len__(self):
        return len(self.works) + self.more


def work_duplicates(
    *, owner: User, identifiers: dict[str, list[str]], sha256: str = ""
) -> Duplicates:
    """The creator's works (active or archived) holding one of ``identifiers`` or a file with
    ``sha256``, each with what it shares, newest first. Two queries at most, one more to load
    the works."""
    reasons: dict[int, list[str]] = {}
    wanted = [(scheme, value) for scheme, values in identifiers.items() for value in values]
    if wanted:
        rows = (
            WorkIdentifier.objects.filter(work__owner=owner, value__in={v for _, v in wanted})
            .order_by("pk")
            .values_list("work_id", "scheme", "value")
        )
        labels = dict(WorkIdentifier.Scheme.choices) | {"url": "web address"}
        for work_id, scheme, value in rows:
            if (scheme, value) in wanted:
                reasons.setdefault(work_id, []).append(
                    f"the same {labels[scheme]}: {display(scheme, value)}"
                )
    if sha256:
        for work_id in WorkFile.objects.filter(work__owner=owner, sha256=sha256).values_list(
            "work_id", flat=True
        ):
            reasons.setdefault(work_id, []).append("the same file")
    if not reasons:
        return Duplicates(works=[])
    works = list(
        Work.objects.filter(owner=owner, pk__in=list(reasons)).order_by("-created_at", "-pk")
    )
    shown = [Duplicate(work=work, reasons=reasons[work.pk]) for work in works[:SHOWN]]
    return Duplicates(works=shown, more=max(len(works) - SHOWN, 0))
