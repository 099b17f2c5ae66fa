"""A disclosure's fields, checked once for the dashboard's form, the registry manager's form and
the API (which reads its multipart body with ``DisclosureForm`` too): the service
(``services.disclosure_submit``) checks them again and keeps the file."""

from django import forms

from consent.vocabulary import Use
from notices.models import AIDeveloper

from .services import Fields

DATE_FORMAT = "%Y-%m-%d"
USES_HELP = ", ".join(Use.values)


class DisclosureForm(forms.Form):
    name = forms.CharField(
        label="Dataset name",
        max_length=200,
        help_text="As you publish it, e.g. “WebText-EU”.",
        error_messages={"required": "Name the dataset."},
    )
    version = forms.CharField(
        max_length=100, required=False, help_text="Optional, e.g. “2026-11” or “v3”."
    )
    uses = forms.MultipleChoiceField(
        label="What the dataset is for",
        choices=Use.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="At least one. The exclusion list keeps every row not freely allowed for "
        "every use ticked.",
        error_messages={
            "required": "Say which uses the dataset is for: at least one.",
            "invalid_choice": "%(value)s is not one of the uses: " + USES_HELP + ".",
        },
    )
    models = forms.CharField(
        label="Models trained or run on it",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Optional, free text.",
    )
    period_start = forms.DateField(
        label="Collected from",
        required=False,
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
        help_text="Optional: when collecting the data began (YYYY-MM-DD).",
        error_messages={"invalid": "A date: YYYY-MM-DD."},
    )
    period_end = forms.DateField(
        label="Collected until",
        required=False,
        input_formats=[DATE_FORMAT],
        widget=forms.DateInput(attrs={"type": "date"}, format=DATE_FORMAT),
        help_text="Optional: when it ended (YYYY-MM-DD).",
        error_messages={"invalid": "A date: YYYY-MM-DD."},
    )
    summary_url = forms.URLField(
        label="Public summary",
        max_length=500,
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text="Optional: the address of your public summary of the training content.",
        error_messages={"invalid": "A web address starting with https:// or http://."},
    )
    manifest = forms.FileField(
        label="Manifest file",
        help_text="CSV, JSON Lines or Parquet, gzip-compressed or not. Its columns may be any "
        "of url, sha256, phash, isbn, isrc, iswc, doi, title and author (in any case); others "
        "are ignored.",
        error_messages={
            "required": "Choose the manifest file.",
            "empty": "The manifest is empty.",
        },
    )

    def clean_summary_url(self):
        url = self.cleaned_data["summary_url"]
        if url and not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("A web address starting with https:// or http://.")
        return url

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("period_start"), cleaned.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The period ends before it starts.")
        return cleaned

    def fields_value(self) -> Fields:
        """The cleaned fields, as the service takes them."""
        data = self.cleaned_data
        return Fields(
            name=data["name"],
            uses=list(data["uses"]),
            version=data.get("version") or "",
            models_text=data.get("models") or "",
            period_start=data.get("period_start"),
            period_end=data.get("period_end"),
            summary_url=data.get("summary_url") or "",
            source=data.get("source") or "",
        )


class RecordForm(DisclosureForm):
    """A registry manager records a disclosure a developer published, on its behalf."""

    field_order = ["developer", "source"]

    developer = forms.ModelChoiceField(
        label="AI developer",
        queryset=AIDeveloper.objects.order_by("name"),
        to_field_name="slug",
        empty_label=None,
        help_text="The organisation whose dataset this is.",
    )
    source = forms.CharField(
        label="Where it came from",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Where the developer published the manifest: its address, or the document "
        "that lists it. Kept with the disclosure and shown to the developer.",
        error_messages={"required": "Say where the manifest was published."},
    )
