"""The form an organisation names a new API key with."""

from django import forms

from .models import APIKey


class APIKeyCreateForm(forms.Form):
    name = forms.CharField(
        label="Name of the key",
        max_length=APIKey._meta.get_field("name").max_length,
        help_text="What the key is for, to tell it from the others, e.g. “ingest pipeline”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
