"""Forms of the consent pages. They parse and check input; every write goes through
``consent.services``."""

import copy

from django import forms
from django.utils import timezone

from works.forms import WorkFilterForm
from works.models import Work

from . import selectors
from .models import CreditPreference
from .vocabulary import USES, Choice, Use

FOLLOW = "default"  # the value of "follow my default" (removes a work's own choice)


def field_name(use: str) -> str:
    return use.replace("-", "_")


# A use in a few words, under its name in the grid of AI choices.
USE_HELP = {
    "train-genai": "Models that write, draw, compose or speak.",
    "train-ai": "Any model that learns from the work, generative or not.",
    "ai-input": "An AI tool reads the work while it runs, e.g. to answer a question.",
    "search": "Search engines index the work and send people to it.",
    "style": "Said in notices and the registry: no web standard has it yet.",
}


class ChoiceRadios(forms.RadioSelect):
    """Radios each described by what choosing it means: ``aria-describedby`` points at
    ``<option id>_means``, the sentence the grid of AI choices writes for it."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if option["attrs"].get("id"):
            option["attrs"]["aria-describedby"] = f"{option['attrs']['id']}_means"
        return option


class ChoicesForm(forms.Form):
    """One radio group per use: allow, deny, only under licence — and, for a work (``follow``
    labels given), "follow my default". The templates lay them out as one grid (a row per use,
    a column per choice; consent/_choice_grid.html)."""

    def __init__(self, *args, follow_labels: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        for use in USES:
            choices = list(Choice.choices)
            if follow_labels is not None:
                choices = [(FOLLOW, follow_labels[use]), *choices]
            self.fields[field_name(use)] = forms.ChoiceField(
                label=Use(use).label,
                choices=choices,
                widget=ChoiceRadios,
                help_text=USE_HELP[use],
            )

    def choices(self) -> dict[str, str | None]:
        """``{use: choice}``; None means "follow my default"."""
        data = self.cleaned_data
        return {
            use: (None if data[field_name(use)] == FOLLOW else data[field_name(use)])
            for use in USES
        }

    def use_fields(self):
        """``(use, bound field)`` in the vocabulary's order."""
        return [(use, self[field_name(use)]) for use in USES]


class CreditForm(forms.ModelForm):
    class Meta:
        model = CreditPreference
        fields = ["credit_line", "attribution_required", "link", "licensing_contact", "terms_url"]
        labels = {
            "credit_line": "Credit line",
            "attribution_required": "AI developers must credit me wherever they use my work",
            "link": "Link to give with the credit",
            "licensing_contact": "Where to ask for a licence",
            "terms_url": "Your licence terms (a web address)",
        }
        help_texts = {
            "link": "Optional: your website, or the work's page, e.g. https://example.org.",
            "terms_url": "Optional: a page that sets out your terms for AI use.",
        }


# --- Bulk apply --------------------------------------------------------------------------------

SCOPES = [
    ("all", "All my works (active and archived)"),
    ("kind", "All my works of one kind (active and archived)"),
    ("search", "The works matching a search, with the filters of my works list"),
]
BULK_CHOICES = [
    *Choice.choices,
    (FOLLOW, "Follow my default (remove these works’ own choice)"),
]


def _search_filter(name: str) -> forms.Field:
    """A filter of the works list (the same choices), said to apply to a search."""
    field = copy.deepcopy(WorkFilterForm.base_fields[name])
    field.help_text = "For “works matching a search”."
    return field


class BulkForm(forms.Form):
    scope = forms.ChoiceField(
        label="Which works", choices=SCOPES, initial="all", widget=forms.RadioSelect
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Any kind")] + list(Work.Kind.choices),
        help_text="For “works of one kind”, and as a filter of a search.",
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=300,
        help_text="A title or an identifier (ISBN, ISRC…).",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    claim = _search_filter("claim")
    status = _search_filter("status")
    use = forms.ChoiceField(label="Which use", choices=Use.choices, widget=forms.RadioSelect)
    choice = forms.ChoiceField(label="Your choice", choices=BULK_CHOICES, widget=forms.RadioSelect)

    def clean(self):
        data = super().clean()
        if data.get("scope") == "kind" and not data.get("kind"):
            self.add_error("kind", "Choose the kind of works.")
        return data

    def selection(self, owner):
        data = self.cleaned_data
        return selectors.selection(
            owner,
            scope=data["scope"],
            kind=data.get("kind") or "",
            q=data.get("q") or "",
            claim=data.get("claim") or "",
            status=data.get("status") or "active",
        )

    @property
    def chosen(self) -> str | None:
        choice = self.cleaned_data["choice"]
        return None if choice == FOLLOW else choice


class BulkConfirmForm(BulkForm):
    confirm = forms.BooleanField(label="Yes, make this change to these works", required=True)


# --- Licence grants ----------------------------------------------------------------------------

GRANT_SCOPES = [
    ("all", "All my works, including those I register later"),
    ("kind", "All my works of one kind (as they are now)"),
    ("search", "The works matching a search (as they are now)"),
    ("work", "Only this work"),
]


class DateInput(forms.DateInput):
    """A browser's date picker. Its value must be ``yyyy-mm-dd`` whatever the locale's date
    format (en-GB's is dd/mm/yyyy), or the browser shows the field empty."""

    input_type = "date"

    def __init__(self, attrs=None, format="%Y-%m-%d"):  # noqa: A002 - Django's own name
        super().__init__(attrs, format=format)


class GrantForm(forms.Form):
    developer = forms.ModelChoiceField(
        label="AI developer",
        queryset=selectors.grantable_developers(),
        empty_label="Choose a developer",
    )
    uses = forms.MultipleChoiceField(
        label="Uses it may make",
        choices=Use.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="A licence to train any AI model also covers training generative AI.",
        error_messages={"required": "Choose at least one use."},
    )
    scope = forms.ChoiceField(
        label="Which works", choices=GRANT_SCOPES, initial="all", widget=forms.RadioSelect
    )
    kind = forms.ChoiceField(
        label="Kind",
        required=False,
        choices=[("", "Choose a kind")] + list(Work.Kind.choices),
        help_text="For “works of one kind”, and as a filter of a search.",
    )
    q = forms.CharField(
        label="Search",
        required=False,
        max_length=300,
        help_text="For “works matching a search”: a title or an identifier.",
        widget=forms.TextInput(attrs={"type": "search"}),
    )
    work = forms.CharField(required=False, max_length=24, widget=forms.HiddenInput)
    licence_ref = forms.CharField(
        label="Licence reference",
        max_length=100,
        help_text="The reference of your agreement with the developer, e.g. LIC-42.",
    )
    starts_on = forms.DateField(label="From", widget=DateInput)
    ends_on = forms.DateField(
        label="Until (optional)",
        required=False,
        widget=DateInput,
        help_text="The last day it is in force. Leave empty for no end date.",
    )

    def __init__(self, *args, owner, work: Work | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.works = None  # None: all their works
        self.fields["starts_on"].initial = timezone.localdate()
        if work is None:
            self.fields["scope"].choices = GRANT_SCOPES[:3]
        else:
            self.fields["work"].initial = work.public_id
            self.fields["scope"].initial = "work"
            self.fields["scope"].choices = [
                *GRANT_SCOPES[:3],
                ("work", f"Only “{work.title}”"),
            ]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The end date must be on or after the start date.")
        scope = data.get("scope")
        if scope == "kind":
            if not data.get("kind"):
                self.add_error("kind", "Choose the kind of works.")
            else:
                self.works = self._resolve(
                    selectors.selection(self.owner, scope="kind", kind=data["kind"])
                )
        elif scope == "search":
            if not (data.get("q") or "").strip():
                self.add_error("q", "Type a title or an identifier to search for.")
            else:
                self.works = self._resolve(
                    selectors.selection(
                        self.owner,
                        scope="search",
                        q=data["q"],
                        kind=data.get("kind") or "",
                        status="all",
                    )
                )
        elif scope == "work":
            work = Work.objects.filter(owner=self.owner, public_id=data.get("work") or "").first()
            if work is None:
                self.add_error("scope", "That work is not among yours.")
            else:
                self.works = [work]
        return data

    def _resolve(self, works):
        works = list(works)
        if not works:
            self.add_error("scope", "No works of yours match: the licence would cover nothing.")
        return works
