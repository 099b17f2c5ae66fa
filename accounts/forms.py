from django import forms
from django.core.exceptions import ValidationError

from .models import CreatorProfile, Guild, User
from .pronouns import normalise_pronouns, validate_pronouns
from .validators import normalise_isni, validate_isni


def add_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ``ValidationError`` on the form: per field where it names one."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


class ProfileForm(forms.ModelForm):
    # Wider than the stored 16 characters: people type ISNIs with spaces or hyphens.
    isni = forms.CharField(
        label="ISNI",
        max_length=40,
        required=False,
        help_text=CreatorProfile._meta.get_field("isni").help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    class Meta:
        model = CreatorProfile
        fields = [
            "display_name",
            "credit_name",
            "pronouns",
            "pseudonyms",
            "isni",
            "website",
            "bio",
        ]
        widgets = {
            "pronouns": forms.TextInput(attrs={"autocomplete": "off"}),
            "pseudonyms": forms.Textarea(attrs={"rows": 3}),
            "bio": forms.Textarea(attrs={"rows": 5}),
        }

    def clean_pronouns(self):
        value = normalise_pronouns(self.cleaned_data["pronouns"])
        validate_pronouns(value)
        return value

    def clean_isni(self):
        value = self.cleaned_data["isni"]
        if not value.strip():
            return ""
        validate_isni(value)
        return normalise_isni(value)


class MembershipClaimForm(forms.Form):
    guild = forms.ModelChoiceField(queryset=Guild.objects.all(), empty_label="Choose your guild")
    membership_number = forms.CharField(
        max_length=64, help_text="As printed on your membership card or letter."
    )


class MembershipDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("verify", "Verify"), ("reject", "Reject")], widget=forms.RadioSelect
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


class GuildForm(forms.ModelForm):
    class Meta:
        model = Guild
        fields = ["name", "slug", "website", "contact_email"]


class UserByEmailForm(forms.Form):
    email = forms.EmailField(help_text="The person must already have an account.")

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        try:
            self.user = User.objects.get(email__iexact=email, is_active=True)
        except User.DoesNotExist:
            raise forms.ValidationError("No active account uses this address.") from None
        return email
