from django import forms

from .models import AIDeveloper, Delivery


class DeveloperForm(forms.ModelForm):
    class Meta:
        model = AIDeveloper
        fields = ["name", "slug", "website", "crawler_user_agents", "is_active"]
        labels = {"slug": "Short name in links"}
        help_texts = {
            "slug": (
                "Lower-case letters, digits and hyphens, e.g. openai. "
                "Used in the registry's addresses."
            ),
            "website": "The organisation's main website, starting with https://.",
        }
        widgets = {
            "crawler_user_agents": forms.Textarea(
                attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false"}
            ),
            "website": forms.URLInput(attrs={"placeholder": "https://"}),
        }


class ContactForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text="A confirmation link is sent here. Notices go to it only once it is confirmed.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    label = forms.CharField(
        max_length=120,
        required=False,
        help_text="Optional: who reads it, e.g. Legal or Data protection.",
    )


class DeliveryFilterForm(forms.Form):
    """The delivery list's filters (GET). Every field is optional; an invalid value is shown
    with its error and ignored."""

    status = forms.ChoiceField(
        choices=[("", "Any status"), *Delivery.Status.choices], required=False
    )
    developer = forms.ModelChoiceField(
        queryset=AIDeveloper.objects.order_by("name"),
        to_field_name="slug",
        required=False,
        empty_label="Any developer",
        label="AI developer",
    )
    channel = forms.ChoiceField(
        choices=[("", "Any channel"), *Delivery.Channel.choices], required=False
    )
    topic = forms.CharField(
        max_length=200,
        required=False,
        label="Topic starts with",
        widget=forms.TextInput(attrs={"placeholder": "e.g. removal:42", "spellcheck": "false"}),
    )
