"""Forms of the conflict pages (staff): resolve a conflict, lift its block."""

from django import forms

from .models import Conflict

REASON_HELP = (
    "Both creators read this reason. Do not name either creator or describe the other's work."
)


class ConflictResolveForm(forms.Form):
    resolution = forms.ChoiceField(label="Resolution", widget=forms.RadioSelect)
    reason = forms.CharField(
        label="Reason",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=REASON_HELP,
        error_messages={"required": "Say why: both creators will read it."},
    )

    def __init__(self, *args, conflict: Conflict, **kwargs):
        kwargs.setdefault("prefix", "resolve")
        super().__init__(*args, **kwargs)
        a, b = conflict.work_a.title, conflict.work_b.title
        self.fields["resolution"].choices = [
            (
                Conflict.Resolution.A_STANDS,
                f"The first registration (“{a}”) stands: the second claim is rejected",
            ),
            (
                Conflict.Resolution.B_STANDS,
                f"The second registration (“{b}”) stands: the first claim is rejected",
            ),
            (
                Conflict.Resolution.BOTH_STAND,
                "Both stand: co-authors, or different rights (e.g. composition and recording)",
            ),
            (Conflict.Resolution.NOT_A_CONFLICT, "Not a conflict: these are different works"),
        ]


class ConflictLiftBlockForm(forms.Form):
    reason = forms.CharField(
        label="Why lift the block",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Kept in the record of this conflict.",
        error_messages={"required": "Say why the block is lifted."},
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("prefix", "lift")
        super().__init__(*args, **kwargs)
