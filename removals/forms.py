"""Forms of the creator's side of removal requests: the draft (works are chosen with buttons, not
here), the review-and-submit step with its two statements, withdrawing, retracting, and staff
starting a draft for a member under their mandate."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from notices.models import AIDeveloper
from works.filetypes import sniff
from works.filetypes.formats import FileType

from .evidence import ACCEPTED
from .models import Ask, RemovalRequest
from .services import NOTIFY_CHOICES, TEXT_MAX

# What each ask means, in plain words (shown under each choice).
ASK_HELP = {
    Ask.CEASE: "Stop every use of the works: training, fine-tuning, and use when their AI runs.",
    Ask.DATASETS: "Take the works out of every dataset they keep for training, so no future "
    "model learns from them.",
    Ask.MODELS: "Retrain or withdraw models that learned from the works, and the models built "
    "on those models.",
    Ask.INFERENCE: "Stop feeding the works to a model when it answers: retrieval, grounding, "
    "prompts (RAG).",
    Ask.CREDIT: "Name you as the creator wherever the works are used with permission.",
    Ask.COMPENSATION: "Pay you for the use already made of the works.",
}

# The two statements every notice carries (the letter says the same in the third person).
GOOD_FAITH_STATEMENT = (
    "The creator states in good faith that the use of these works described in this request "
    "is not authorised by them, by anyone acting for them, or by the law."
)
ACCURACY_STATEMENT = (
    "The creator states that the information in this request is accurate, and that they own "
    "the rights in these works."
)
EVIDENCE_KINDS = "a screenshot or picture (PNG, JPEG, WebP or GIF), a PDF or a plain-text file"


def evidence_accept(head: bytes) -> FileType:
    """What the streaming upload handler lets through: only the evidence types, told by their
    content, with messages about evidence (not about works)."""
    try:
        filetype = sniff(head)
    except ValidationError as exc:
        if exc.code == "markup":
            message = "This file is a web page (HTML), whatever its name says."
        elif exc.code in ("empty", "svg"):
            message = exc.messages[0]
        else:
            message = "This kind of file is not accepted as evidence."
        raise ValidationError(f"{message} Attach {EVIDENCE_KINDS}.", code="evidence") from exc
    if filetype.format not in ACCEPTED:
        raise ValidationError(
            f"This file is {filetype.label}, which is not accepted as evidence. "
            f"Attach {EVIDENCE_KINDS}.",
            code="evidence",
        )
    return filetype


def evidence_limits() -> dict[str, int]:
    """The same limit for every family the handler may meet (only images and text pass)."""
    limit = settings.REMOVALS_EVIDENCE_MAX_BYTES
    return {family: limit for family in ("image", "text", "audio", "video")}


class DraftForm(forms.Form):
    """Everything on the edit page but the works (chosen with buttons) — saved by every button,
    so nothing they typed is lost whichever one they press."""

    title = forms.CharField(
        label="Name of the request (optional)",
        required=False,
        max_length=200,
        help_text="Only for you, e.g. “My novels and Books3”. Shown in your list of requests.",
    )
    all_developers = forms.BooleanField(
        label="All registered AI developers",
        required=False,
        help_text="Every developer in the registry when your request is approved, including "
        "those added after today.",
    )
    developers = forms.ModelMultipleChoiceField(
        label="Or choose developers",
        queryset=AIDeveloper.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    asks = forms.MultipleChoiceField(
        label="What you ask them to do", choices=Ask.choices, required=False
    )
    where_used = forms.CharField(
        label="Where you believe your works were used",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Free text and web addresses: a dataset, a model, a product, an output that "
        "copies your work. One per line helps.",
    )
    notify_steps = forms.MultipleChoiceField(
        label="Email me",
        choices=NOTIFY_CHOICES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="We always email you when your guild's staff ask you a question or reject "
        "the request.",
    )
    evidence = forms.FileField(
        label="Add an evidence file",
        required=False,
        help_text=f"{EVIDENCE_KINDS[0].upper()}{EVIDENCE_KINDS[1:]}, up to "
        f"{filesizeformat(settings.REMOVALS_EVIDENCE_MAX_BYTES)}. It is checked by its "
        "content, not its name.",
    )
    evidence_note = forms.CharField(
        label="What the file shows (optional)",
        required=False,
        max_length=300,
        help_text="e.g. “Screenshot of the dataset listing my novel, 3 March 2026”.",
    )

    def __init__(self, *args, request: RemovalRequest, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "title": request.title,
                "all_developers": request.all_developers,
                "developers": list(request.developers.values_list("pk", flat=True)),
                "asks": list(request.asks),
                "where_used": request.where_used,
                "notify_steps": list(request.notify_steps),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["developers"].queryset = AIDeveloper.objects.filter(is_active=True).order_by(
            "name"
        )

    @property
    def ask_options(self) -> list[dict]:
        """The six asks with their help, for a fieldset drawn by hand (help under each)."""
        chosen = set(self["asks"].value() or [])
        return [
            {
                "value": value,
                "label": label,
                "help": ASK_HELP[value],
                "checked": value in chosen,
                "id": f"id_asks_{i}",
            }
            for i, (value, label) in enumerate(Ask.choices)
        ]

    @property
    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "title": data["title"],
            "all_developers": data["all_developers"],
            "developers": list(data["developers"]),
            "asks": [a for a in Ask.values if a in data["asks"]],
            "where_used": data["where_used"],
            "notify_steps": data["notify_steps"],
        }


class SubmitForm(forms.Form):
    good_faith = forms.BooleanField(
        label="I confirm the good-faith statement",
        help_text=GOOD_FAITH_STATEMENT,
        error_messages={"required": "Confirm the good-faith statement: it is part of the notice."},
    )
    accurate = forms.BooleanField(
        label="I confirm the information is accurate",
        help_text=ACCURACY_STATEMENT,
        error_messages={
            "required": "Confirm that the information is accurate: it is part of the notice."
        },
    )
    answer = forms.CharField(
        label="Your answer to the staff's question",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": "Answer the staff's question before sending it back."},
    )

    def __init__(self, *args, needs_answer: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not needs_answer:
            del self.fields["answer"]


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label="Why you withdraw it (optional)",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Kept on your request's timeline. No notice was sent, so nobody else reads it "
        "but your guild's staff.",
    )


class RetractForm(forms.Form):
    reason = forms.CharField(
        label="Why you retract it (optional)",
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Included in the retraction notice the developers receive, e.g. “We reached "
        "a licence agreement.”",
    )
    confirm = forms.BooleanField(
        label="I understand that the developers are told I retract this request",
        error_messages={"required": "Tick the box to confirm the retraction."},
    )


class MemberChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, mandate):
        return f"{mandate.creator.label} ({mandate.creator.email}) — {mandate.guild.name}"


class FileForMemberForm(forms.Form):
    mandate = MemberChoiceField(
        label="The member",
        queryset=None,
        empty_label="Choose a member",
        help_text="Verified members of your guild who gave it a mandate to act for them.",
        error_messages={"invalid_choice": "Choose one of the members listed."},
    )
    title = forms.CharField(label="Name of the request (optional)", required=False, max_length=200)

    def __init__(self, *args, mandates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mandate"].queryset = mandates


class ContestForm(forms.Form):
    """The creator contests a developer's "complied" (issue 20)."""

    reason = forms.CharField(
        label="Why you contest it",
        max_length=2_000,  # contests.REASON_MAX
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Plain text, up to 2,000 characters. Your guild's staff read it and may quote it "
        "to the developer when they ask again, e.g. “The model still reproduces chapter 3.”",
        error_messages={"required": "Say why you contest it: your guild's staff read it."},
    )
