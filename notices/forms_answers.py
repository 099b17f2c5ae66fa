"""Forms of the answer pages: the developer's three answers (signed link and dashboard) and
staff recording an answer that arrived by other means, with files."""

from django import forms

from .models import NoticeAnswer
from .services.answers import STATEMENT_MAX

Kind = NoticeAnswer.Kind

# What each answer asks for: its heading, the statement's label, help and whether it is needed.
ANSWER_CHOICES = {
    Kind.ACKNOWLEDGED: {
        "heading": "Acknowledge",
        "intro": "You have received the notice and are looking into it.",
        "label": "Note (optional)",
        "help": "Anything the guild should know, such as who handles this on your side.",
        "required": False,
        "button": "Acknowledge the notice",
    },
    Kind.COMPLIED: {
        "heading": "Report compliance",
        "intro": "You have done what the notice asks.",
        "label": "What you did to comply",
        "help": "For example which datasets and models the works were removed from, and when. "
        "The creator sees this statement.",
        "required": True,
        "button": "Report compliance",
        "missing": "Say what you did to comply: the creator sees this statement.",
    },
    Kind.DISPUTED: {
        "heading": "Dispute",
        "intro": "You believe the notice is mistaken or does not apply to you.",
        "label": "Reason for the dispute",
        "help": "Explain why, so the creator's guild can look into it.",
        "required": True,
        "button": "Dispute the notice",
        "missing": "Give the reason for the dispute.",
    },
}


class AnswerForm(forms.Form):
    """One of the three answers. Its fields carry the answer's kind as prefix
    (``disputed-statement``), so the three forms of a page have ids of their own; a hidden
    ``answer`` field says which form was sent."""

    statement = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=STATEMENT_MAX, strip=True
    )

    def __init__(self, *args, kind: str, **kwargs):
        super().__init__(*args, prefix=kind, **kwargs)
        self.kind = kind
        spec = ANSWER_CHOICES[kind]
        self.heading, self.intro, self.button = spec["heading"], spec["intro"], spec["button"]
        field = self.fields["statement"]
        field.label, field.help_text, field.required = spec["label"], spec["help"], spec["required"]
        if spec["required"]:
            field.error_messages = {**field.error_messages, "required": spec["missing"]}


def answer_forms(data=None, *, kind: str | None = None) -> dict[str, AnswerForm]:
    """The three forms of a page, the one of ``kind`` bound to ``data``."""
    return {
        choice: AnswerForm(data if choice == kind else None, kind=choice)
        for choice in ANSWER_CHOICES
    }


def posted_kind(data) -> str | None:
    kind = data.get("answer")
    return kind if kind in ANSWER_CHOICES else None


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one field; ``cleaned_data`` holds a list (empty when none)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class StaffAnswerForm(forms.Form):
    """An answer that reached the portal by other means (an email reply, a letter), recorded by
    staff on the developer's behalf. The files' types and sizes are checked by the service,
    from their content."""

    kind = forms.ChoiceField(
        label="The developer's answer",
        choices=Kind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose the answer the developer gave."},
    )
    statement = forms.CharField(
        label="Statement",
        required=False,
        max_length=STATEMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the developer wrote: what it did to comply, or the reason for its "
        "dispute (needed for both). The creator sees it.",
    )
    received_by = forms.CharField(
        label="How it arrived",
        max_length=200,
        help_text="For example “email reply from legal@… on 3 March” or “letter dated 1 March”.",
        error_messages={"required": "Say how the answer arrived (an email reply, a letter…)."},
    )
    attachments = MultipleFileField(
        label="Attachments (optional)",
        required=False,
        help_text="The reply itself: PDF, PNG or JPEG scans, or the email saved as a text "
        ".eml file. Up to 10 files.",
    )

    def __init__(self, *args, max_bytes: int, **kwargs):
        super().__init__(*args, **kwargs)
        from django.template.defaultfilters import filesizeformat

        field = self.fields["attachments"]
        field.help_text += f" Each at most {filesizeformat(max_bytes)}."
        field.widget.attrs["accept"] = ".pdf,.png,.jpg,.jpeg,.eml,.txt"

    def clean(self):
        data = super().clean()
        kind, statement = data.get("kind"), data.get("statement", "")
        if kind in (Kind.COMPLIED, Kind.DISPUTED) and not statement:
            self.add_error("statement", ANSWER_CHOICES[kind]["missing"])
        return data
