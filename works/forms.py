import copy

from django import forms
from django.core.exceptions import ValidationError

from . import extensions
from .models import Work
from .services import SCHEMES, identifiers_parse

IDENTIFIER_FIELDS = {
    "isbn": ("ISBN", "For books: ISBN-10 or ISBN-13. Several? Separate them with spaces."),
    "isrc": ("ISRC", "For recordings, e.g. GB-AYE-06-01498."),
    "iswc": ("ISWC", "For musical works, e.g. T-034.524.680-1."),
    "doi": ("DOI", "e.g. 10.1000/182"),
    "url": ("Web addresses", "Where the work is published, one per line."),
}


class WorkForm(forms.Form):
    title = forms.CharField(max_length=300)
    kind = forms.ChoiceField(choices=[("", "Choose a kind")] + list(Work.Kind.choices))
    year = forms.IntegerField(required=False, min_value=1000, max_value=2100)
    description = forms.CharField(
        required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    co_creators = forms.CharField(
        label="Co-creators",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Anyone who made this work with you, and their part (one per line).",
    )
    isbn = forms.CharField(label="ISBN", required=False, max_length=2000)
    isrc = forms.CharField(label="ISRC", required=False, max_length=2000)
    iswc = forms.CharField(label="ISWC", required=False, max_length=2000)
    doi = forms.CharField(label="DOI", required=False, max_length=2000)
    url = forms.CharField(
        label="Web addresses",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for scheme, (label, help_text) in IDENTIFIER_FIELDS.items():
            self.fields[scheme].label = label
            self.fields[scheme].help_text = help_text
            self.fields[scheme].widget.attrs.setdefault("autocomplete", "off")

    def _clean_scheme(self, scheme):
        return identifiers_parse(scheme=scheme, text=self.cleaned_data.get(scheme, ""))

    def clean_isbn(self):
        return self._clean_scheme("isbn")

    def clean_isrc(self):
        return self._clean_scheme("isrc")

    def clean_iswc(self):
        return self._clean_scheme("iswc")

    def clean_doi(self):
        return self._clean_scheme("doi")

    def clean_url(self):
        return self._clean_scheme("url")

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError("Give the work a title.")
        return title

    @property
    def work_fields(self) -> dict:
        return {
            name: self.cleaned_data[name]
            for name in ["title", "kind", "year", "description", "co_creators"]
        }

    @property
    def identifiers(self) -> dict[str, list[str]]:
        return {scheme: self.cleaned_data[scheme] for scheme in SCHEMES}

    @classmethod
    def initial_for(cls, work: Work) -> dict:
        initial = {
            name: getattr(work, name)
            for name in ["title", "kind", "year", "description", "co_creators"]
        }
        joiner = {"url": "\n"}
        for scheme in SCHEMES:
            values = [i.value for i in work.identifiers.all() if i.scheme == scheme]
            initial[scheme] = joiner.get(scheme, " ").join(values)
        return initial


class WorkCreateForm(WorkForm):
    file = forms.FileField(
        required=False,
        help_text=(
            "Optional. Images (JPEG, PNG, WebP, GIF, TIFF), text (TXT, PDF, EPUB, DOCX), "
            "audio (MP3, WAV, FLAC) or video (MP4). Kept private: only you and the guild staff "
            "checking your claim can open it."
        ),
    )


class FileForm(forms.Form):
    file = forms.FileField(label="File")


class ClaimRequestForm(forms.Form):
    url = forms.URLField(
        label="A link that shows the work is yours",
        required=False,
        max_length=2000,
        assume_scheme="https",
        help_text="e.g. your publisher's page for the book, or a record label's release page.",
    )
    statement = forms.CharField(
        label="Statement",
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Anything that helps staff check: contract details, your publisher's statement…",
    )
    evidence = forms.FileField(
        label="Evidence file",
        required=False,
        help_text="A PDF, a text document or an image, up to 20 MB.",
    )


class ClaimDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("verify", "Verify: the work is theirs"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required when rejecting: the creator will read it.",
    )

    def clean(self):
        data = super().clean()
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            self.add_error("reason", "Say why the claim is rejected: the creator will read it.")
        return data


class WorkFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, max_length=300)
    kind = forms.ChoiceField(
        label="Kind", required=False, choices=[("", "All kinds")] + list(Work.Kind.choices)
    )
    claim = forms.ChoiceField(
        label="Claim",
        required=False,
        choices=[("", "Any claim"), ("pending", "Awaiting verification")]
        + list(Work.Claim.choices),
    )
    conflict = forms.ChoiceField(
        label="Conflicts",
        required=False,
        choices=[("", "With or without"), ("open", "With a possible conflict")],
    )
    status = forms.ChoiceField(
        label="Show",
        required=False,
        choices=[("active", "Active works"), ("archived", "Archived works"), ("all", "All works")],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("newest", "Newest first"),
            ("oldest", "Oldest first"),
            ("title", "Title"),
            ("year", "Year"),
        ],
    )

    # Filters the apps above ``works`` add (``works.extensions``): AI choices, from ``consent``.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        extra = {}
        for list_filter in extensions.list_filters:
            extra.update({name: copy.deepcopy(f) for name, f in list_filter.fields.items()})
        if extra:  # before "Show" and "Sort by"
            tail = {name: self.fields.pop(name) for name in ("status", "sort")}
            self.fields.update({**extra, **tail})

    def clean(self):
        data = super().clean()
        for list_filter in extensions.list_filters:
            for name, error in list_filter.clean(data).items():
                self.add_error(name, error)
        return data

    @property
    def narrows(self) -> bool:
        """Whether the valid form leaves works out (not counting "Show" and "Sort by")."""
        data = self.cleaned_data
        return bool(data.get("q") or data.get("kind") or data.get("claim") or self.beyond_search)

    @property
    def beyond_search(self) -> bool:
        """Whether it filters on more than the bulk AI-choice page can repeat (its "works
        matching a search" takes the search, kind, claim and status only)."""
        data = self.cleaned_data
        return bool(data.get("conflict")) or any(f.active(data) for f in extensions.list_filters)
