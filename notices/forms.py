from django import forms

from .models import AIDeveloper, Delivery
from .services.webhooks import webhook_url_validate


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


# --- An organisation's people and settings -------------------------------------------------------


class InvitationForm(forms.Form):
    email = forms.EmailField(
        label="Email address",
        help_text=(
            "We email an invitation link here. The person accepts it signed in with this "
            "address, verified."
        ),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )


class WebhookForm(forms.Form):
    url = forms.CharField(
        label="Webhook URL",
        max_length=500,
        help_text=(
            "Where the portal sends each notice as a signed JSON request. It must start with "
            "https:// and reach a public address."
        ),
        widget=forms.URLInput(
            attrs={"placeholder": "https://", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def clean_url(self):
        return webhook_url_validate(self.cleaned_data["url"])


class WebhookRotateForm(forms.Form):
    OVERLAPS = [
        (0, "No overlap: the current secret stops signing at once"),
        (24 * 3600, "24 hours: both secrets sign for a day"),
        (7 * 24 * 3600, "7 days: both secrets sign for a week"),
    ]

    overlap_seconds = forms.TypedChoiceField(
        label="How long the current secret keeps signing",
        choices=OVERLAPS,
        coerce=int,
        initial=24 * 3600,
        widget=forms.RadioSelect,
        help_text=(
            "During the overlap every request carries two signatures, one per secret, so your "
            "receiver can switch to the new secret without missing a notice."
        ),
    )


class DigestFrequencyForm(forms.Form):
    digest_frequency = forms.ChoiceField(
        label="Consent digest",
        choices=AIDeveloper.DigestFrequency.choices,
        widget=forms.RadioSelect,
        help_text=(
            "The works whose decisions for your organisation changed, as JSON and CSV files, "
            "sent as a notice."
        ),
    )
