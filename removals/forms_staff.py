"""Forms of the staff side of removal requests: the decisions on a request, and the legal
wording of the letters. The services check everything again; these give clear messages first."""

from django import forms

from .letter_templates import WORDING_MAX
from .services import TEXT_MAX


class ApproveForm(forms.Form):
    note = forms.CharField(
        label="Note for the record (optional)",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept with the decision and shown on the creator's timeline.",
    )
    grants_seen = forms.BooleanField(
        label="I have seen the licence(s) the creator gave to the developers named above",
        required=False,
    )

    def __init__(self, *args, grants_warning: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.grants_warning = grants_warning
        if grants_warning:
            self.fields["grants_seen"].required = True
            self.fields["grants_seen"].error_messages["required"] = (
                "Tick this box once you have read the licences: the notices mention them, "
                "and the developers may keep the uses they cover."
            )
        else:
            del self.fields["grants_seen"]


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Why is the request rejected?",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The creator reads this as you write it.",
        error_messages={"required": "Say why: the creator will read it."},
    )


class InfoForm(forms.Form):
    question = forms.CharField(
        label="What do you need to know?",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=(
            "The creator is emailed, answers in the portal, and the request comes back to the "
            "queue."
        ),
        error_messages={"required": "Ask your question: the creator will read it."},
    )


class CloseForm(forms.Form):
    reason = forms.CharField(
        label="Why close the request now?",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=(
            "For example: the developers answered by letter, or the matter was settled. "
            "The creator reads this reason."
        ),
        error_messages={"required": "Say why the request is closed."},
    )


class LegalWordingForm(forms.Form):
    legal_basis = forms.CharField(
        label="Legal wording",
        max_length=WORDING_MAX,
        strip=True,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text=(
            "Quoted under “Legal basis” in every removal notice approved from now on. "
            "Notices already sent keep their words."
        ),
        error_messages={"required": "Write the legal wording: every removal notice quotes it."},
    )


class AskAgainForm(forms.Form):
    """Staff ask a developer again after the creator contested its "complied" (issue 20)."""

    note = forms.CharField(
        label="A note to the developer (optional)",
        required=False,
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Added to the new notice after the creator's reason.",
    )
