"""What ``consent`` adds to the creator's catalogue (``works.extensions``): the works list's
filter by AI choice, the export's columns of each work's effective AI choices, and the works
list's bulk action "Set an AI choice" (``consent.services.bulk_apply``, as the "Apply to N
works" page does).

Both say what ``consent.decisions`` says for "any developer" (what the public page and the
signals say): the work's own choice for the use, else the creator's default, else the portal's,
with ``train-genai`` never more open than ``train-ai``. Neither has a rule of its own:

- the export asks ``decisions_for_works`` for each chunk of works (one query a chunk);
- the filter cannot ask it work by work without reading the whole catalogue, so it asks it
  about every *kind* of work instead: a work's decision for a use depends only on whether the
  work has its own choice for that use (and, for ``train-genai``, for ``train-ai``) and which —
  at most 4 × 4 cases, each resolved by ``decisions_resolve`` with the creator's defaults. The
  cases that give the choice asked for become one SQL condition on the work's own choices.
"""

from itertools import product

from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet

from works.extensions import BulkAction, BulkDone, ExportColumns, ListFilter

from .decisions import decisions_for_works, decisions_resolve
from .models import Preference
from .vocabulary import USES, Choice, Use

DEFAULT = "default"  # the filter's "the work has no choice of its own for this use"
FILTER_CHOICES = [
    ("", "Any choice"),
    (Choice.ALLOW.value, "Allowed"),
    (Choice.DENY.value, "Not allowed"),
    (Choice.LICENCE.value, "Only under licence"),
    (DEFAULT, "Default (no choice for the work)"),
]
EXPORT_COLUMNS = tuple(f"ai_{use.replace('-', '_')}" for use in USES)


# --- The works list's filter ---------------------------------------------------------------------


def _fields() -> dict[str, forms.Field]:
    return {
        "ai_use": forms.ChoiceField(
            label="AI use",
            required=False,
            choices=[("", "Any use")] + [(use.value, use.label) for use in Use],
        ),
        "ai_choice": forms.ChoiceField(label="AI choice", required=False, choices=FILTER_CHOICES),
    }


def _clean(data: dict) -> dict[str, str]:
    use, choice = data.get("ai_use"), data.get("ai_choice")
    if choice and not use:
        return {"ai_use": "Choose the AI use this choice is about."}
    if use and not choice:
        return {"ai_choice": "Choose which choice to look for."}
    return {}


def _active(data: dict) -> bool:
    return bool(data.get("ai_use") and data.get("ai_choice"))


def _own_choice(use: str, choice: str | None) -> Q:
    """Works whose own choice for ``use`` is ``choice`` (None: that have none)."""
    mine = Preference.objects.filter(work=OuterRef("pk"), use=use)
    if choice is None:
        return ~Q(Exists(mine))
    return Q(Exists(mine.filter(choice=choice)))


def works_with_choice(owner, *, use: str, choice: str) -> Q:
    """A filter on ``owner``'s works whose decision for ``use`` (for any developer) is
    ``choice`` — ``allow``, ``deny`` or ``licence`` — or, for ``"default"``, that have no
    choice of their own for ``use``. One query now (the creator's defaults); the rest is a
    condition of the works' query."""
    if choice == DEFAULT:
        return _own_choice(use, None)
    defaults = dict(
        Preference.objects.filter(owner=owner, work__isnull=True).values_list("use", "choice")
    )
    depends_on = ("train-genai", "train-ai") if use == "train-genai" else (use,)
    states = (None, *Choice.values)  # no choice of its own, or one of the three
    condition = Q(pk__in=[])
    for case in product(states, repeat=len(depends_on)):
        own = {u: c for u, c in zip(depends_on, case, strict=True) if c is not None}
        decided = decisions_resolve(work_id=0, defaults=defaults, overrides=own, grants=[])
        if decided[use].choice == choice:
            part = Q()
            for u, c in zip(depends_on, case, strict=True):
                part &= _own_choice(u, c)
            condition |= part
    return condition


def _apply(works: QuerySet, owner, data: dict) -> QuerySet:
    return works.filter(works_with_choice(owner, use=data["ai_use"], choice=data["ai_choice"]))


AI_CHOICE_FILTER = ListFilter(fields=_fields(), apply=_apply, clean=_clean, active=_active)


# --- The export's columns ------------------------------------------------------------------------


def export_values(works: list) -> dict[int, dict[str, str]]:
    """``{work pk: {"ai_train_genai": "deny", …}}`` for a chunk of works, in one query."""
    decided = decisions_for_works(works)
    return {
        pk: {
            column: decisions[use].choice for column, use in zip(EXPORT_COLUMNS, USES, strict=True)
        }
        for pk, decisions in decided.items()
    }


AI_CHOICE_COLUMNS = ExportColumns(columns=EXPORT_COLUMNS, values=export_values)


# --- The works list's bulk action ----------------------------------------------------------------


def _bulk_fields(owner) -> dict[str, forms.Field]:
    from .forms import BULK_CHOICES

    return {
        "use": forms.ChoiceField(label="Which use", choices=Use.choices, widget=forms.RadioSelect),
        "choice": forms.ChoiceField(
            label="Your choice", choices=BULK_CHOICES, widget=forms.RadioSelect
        ),
    }


def _bulk_apply(*, actor, owner, works: QuerySet, data: dict) -> BulkDone:
    """``bulk_apply`` (the bulk page's service: per-work choices, one ledger entry, a receipt)
    on the works chosen."""
    from . import services
    from .forms import FOLLOW

    choice = None if data["choice"] == FOLLOW else data["choice"]
    entry = services.bulk_apply(
        actor=actor,
        owner=owner,
        works=works.only("pk", "public_id", "owner_id"),
        use=data["use"],
        choice=choice,
    )
    if entry is None:
        return BulkDone("Nothing changed: those were already the choices.")
    label = Use(data["use"]).label
    return BulkDone(
        f"Your choice for “{label}” is saved for {entry.scope_label} — a receipt is on its way "
        "to your inbox."
    )


AI_CHOICE_BULK = BulkAction(
    name="ai_choice",
    label="Set an AI choice",
    confirm="Set the choice for {count}",
    apply=_bulk_apply,
    fields=_bulk_fields,
    position=30,
)
