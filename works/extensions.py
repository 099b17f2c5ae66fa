"""What the apps above ``works`` add to the creator's catalogue: filters of the works list and
columns of the catalogue export.

``works`` imports none of the apps above it (DESIGN: ``consent`` uses ``works``, never the other
way), yet the works list filters by AI choice and the export carries each work's effective AI
choices, which only ``consent`` knows. So ``consent`` registers them here from its
``AppConfig.ready``, as ``works_registry`` registers its listeners in ``works.listeners``.

- A ``ListFilter`` adds fields to the works list's filter form (``WorkFilterForm``), checks them
  together (``clean``) and narrows the creator's works in SQL (``apply``): the filter is one more
  condition of the same query, so the page's queries do not grow with the catalogue.
- ``ExportColumns`` adds columns to every row of the export, computed for a whole chunk of works
  at a time (``values(works)`` → ``{work pk: {column: value}}``): a constant number of queries
  per chunk, never one per work.
- A ``BulkAction`` is one more action of the works list's bulk form (``works.bulk``): the fields
  its confirmation page asks for, and what it does to the works chosen (a queryset of the
  creator's works, never ids they sent) — setting an AI choice (``consent``), adding them to a
  removal request (``removals``).
"""

from collections.abc import Callable
from dataclasses import dataclass

from django import forms
from django.db.models import QuerySet


@dataclass(frozen=True)
class ListFilter:
    # Field name → form field, added to ``WorkFilterForm`` before its "Show" and "Sort by".
    fields: dict[str, forms.Field]
    # ``apply(works, owner, cleaned_data)`` → the works narrowed; called only when ``active``.
    apply: Callable[[QuerySet, object, dict], QuerySet]
    # ``clean(cleaned_data)`` → ``{field name: error}`` for fields that do not go together.
    clean: Callable[[dict], dict[str, str]] = lambda data: {}
    # Whether ``cleaned_data`` asks for this filter at all.
    active: Callable[[dict], bool] = lambda data: False


@dataclass(frozen=True)
class ExportColumns:
    columns: tuple[str, ...]
    values: Callable[[list], dict[int, dict]]


@dataclass(frozen=True)
class BulkDone:
    """What a bulk action did: the message shown, and where to go next ("" = the works list)."""

    message: str
    url: str = ""


@dataclass(frozen=True)
class BulkAction:
    name: str  # the value of the bulk form's "action"
    label: str  # in the works list's menu of actions
    # The confirmation button: "{count}" is the number of works ("Archive {count}").
    confirm: str
    # ``apply(actor=, owner=, works=, data=)`` → ``BulkDone``: ``works`` is a queryset of the
    # owner's works (``select_related``/``prefetch_related`` cleared), ``data`` the cleaned
    # fields; in one transaction of its own, a constant number of queries; ``ValidationError``
    # changes nothing.
    apply: Callable[..., BulkDone]
    # ``fields(owner)`` → the fields its confirmation page asks for (field name → form field).
    fields: Callable[[object], dict[str, forms.Field]] = lambda owner: {}
    position: int = 50  # where in the menu (smaller first)


list_filters: list[ListFilter] = []
export_columns: list[ExportColumns] = []
bulk_actions: list[BulkAction] = []


def register_list_filter(list_filter: ListFilter) -> None:
    if list_filter not in list_filters:
        list_filters.append(list_filter)


def register_export_columns(columns: ExportColumns) -> None:
    if columns not in export_columns:
        export_columns.append(columns)


def register_bulk_action(action: BulkAction) -> None:
    if all(a.name != action.name for a in bulk_actions):
        bulk_actions.append(action)
