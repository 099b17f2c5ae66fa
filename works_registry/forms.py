"""Forms of the sites pages: a creator declares a site; staff resolve a conflict between two
creators' sites."""

from django import forms

from works.forms_conflicts import ConflictResolveForm

from .models import SiteConflict
from .sites import MAX_SITE_URL_LENGTH


class SiteDeclareForm(forms.Form):
    url = forms.CharField(
        label="Your site's address",
        max_length=MAX_SITE_URL_LENGTH,
        help_text="The address of its home page, like https://ada.example/ — or, on a platform "
        "that hosts many people, the address of your part of it, like "
        "https://platform.example/ada.",
        error_messages={"required": "Enter your site's address, like https://ada.example/."},
        widget=forms.TextInput(
            attrs={"autocomplete": "url", "inputmode": "url", "spellcheck": "false"}
        ),
    )


class SiteConflictResolveForm(forms.Form):
    # The fields of the form that resolves a conflict between works (each form copies them).
    resolution = ConflictResolveForm.base_fields["resolution"]
    reason = ConflictResolveForm.base_fields["reason"]

    def __init__(self, *args, conflict: SiteConflict, **kwargs):
        kwargs.setdefault("prefix", "resolve")
        super().__init__(*args, **kwargs)
        a, b = conflict.site_a.address, conflict.site_b.address
        Resolution = SiteConflict.Resolution
        self.fields["resolution"].choices = [
            (Resolution.A_STANDS, f"The first site ({a}) stands: the second is removed"),
            (Resolution.B_STANDS, f"The second site ({b}) stands: the first is removed"),
            (Resolution.BOTH_STAND, "Both stand: the creators share this site"),
            (Resolution.NOT_A_CONFLICT, "Not a conflict: these are different creators' pages"),
        ]
