"""The filters of the creator's "Found in datasets" page (a GET form): developer, dataset, how it
matched and the creator's decision. The developer and dataset choices are those of the creator's
own findings only, so the form names no other dataset."""

from django import forms

from .models import Disclosure, Finding


class FindingFilterForm(forms.Form):
    developer = forms.TypedChoiceField(label="Developer", required=False, coerce=int)
    dataset = forms.TypedChoiceField(label="Dataset", required=False, coerce=int)
    kind = forms.ChoiceField(
        label="How it matched",
        required=False,
        choices=[("", "Any match")] + list(Finding.Kind.choices),
    )
    state = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("", "Any state")] + list(Finding.State.choices),
    )

    def __init__(self, *args, disclosures: list[Disclosure], **kwargs):
        super().__init__(*args, **kwargs)
        developers = {d.developer_id: d.developer.name for d in disclosures}
        self.fields["developer"].choices = [("", "Any developer")] + sorted(
            developers.items(), key=lambda item: item[1].casefold()
        )
        self.fields["dataset"].choices = [("", "Any dataset")] + [
            (d.pk, f"{d.name} {d.version}".strip() + f" ({d.developer.name})") for d in disclosures
        ]

    @property
    def filters(self) -> dict:
        """The valid filters (an unknown value is ignored, and shown as an error)."""
        data = getattr(self, "cleaned_data", {})
        return {
            "developer": data.get("developer") or None,
            "disclosure": data.get("dataset") or None,
            "kind": data.get("kind") or "",
            "state": data.get("state") or "",
        }
