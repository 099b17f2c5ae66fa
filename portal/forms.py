from django import forms


class AccountDeleteForm(forms.Form):
    """Type your own email address to confirm a deletion that cannot be undone."""

    email = forms.EmailField(
        label="Type your email address to confirm",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["email"].help_text = f"The address you sign in with: {user.email}"

    def clean_email(self):
        email = self.cleaned_data["email"].strip().lower()
        if email != self.user.email.lower():
            raise forms.ValidationError("That is not the email address of this account.")
        return email
