"""The creator's AI choices: their defaults and credit, one work's choices, bulk apply — and the
same pages for guild staff acting for a member under the mandate they gave their guild."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.forms import add_service_errors
from accounts.selectors import user_roles
from works.selectors import works_for_owner

from .. import access, decisions, selectors, services
from ..forms import FOLLOW, BulkConfirmForm, BulkForm, ChoicesForm, CreditForm, field_name
from ..models import CreditPreference
from ..vocabulary import DEFAULTS, USES
from ..wording import CHOICE_WORDS, USE_WORDS, consequence, implied_reason, kind_word, source_words

SAVED = "Saved — a receipt is on its way to {inbox}."
UNCHANGED = "Nothing changed: those were already the choices."


def _saved(request, entry, owner) -> None:
    if entry is None:
        messages.info(request, UNCHANGED)
        return
    inbox = "your inbox" if owner.pk == request.user.pk else f"{owner.label}’s inbox"
    messages.success(request, SAVED.format(inbox=inbox))


def _acting(request, owner, mandate) -> dict:
    """What every page needs to know about who is acting for whom."""
    staff = mandate is not None
    return {
        "owner": owner,
        "mandate": mandate,
        "acting_for": staff,
        "who": owner.label if staff else "you",
        "preferences_url": (
            reverse("consent:member-preferences", args=[owner.ref])
            if staff
            else reverse("consent:preferences")
        ),
    }


def _work_url(owner, work, mandate) -> str:
    if mandate is not None:
        return reverse("consent:member-work", args=[owner.ref, work.public_id])
    return reverse("consent:work", args=[work.public_id])


GENAI_NOTE = (
    "A kind of training AI: if you say no to training any AI, that also means no to generative AI."
)


def _genai_note(use, decision, *, who, kind) -> dict:
    """The note beside ``train-genai``, and what the implication does now, if anything."""
    if use != "train-genai":
        return {}
    in_force = ""
    if decision.source == "implied":
        reason = implied_reason(decision, who=who)
        in_force = f"{reason[0].upper()}{reason[1:]}, {consequence(use, decision.choice, kind)}"
        in_force = in_force[:-1] + " — whatever is chosen here."
    return {"note": GENAI_NOTE, "in_force": in_force}


# --- Defaults and credit -----------------------------------------------------------------------


@login_required
def preferences(request):
    return _defaults_page(request, request.user, None)


@login_required
def member_preferences(request, ref):
    member, mandate = access.member_for_staff(request.user, ref)
    return _defaults_page(request, member, mandate)


def _defaults_page(request, owner, mandate):
    context = _acting(request, owner, mandate)
    chosen = selectors.chosen_defaults(owner)
    initial = {field_name(use): chosen.get(use, DEFAULTS[use]) for use in USES}
    credit = CreditPreference.objects.filter(owner=owner).first() or CreditPreference(owner=owner)
    form = ChoicesForm(initial=initial, prefix="defaults")
    credit_form = CreditForm(instance=credit, prefix="credit")

    if request.method == "POST":
        section = request.POST.get("section")
        if section == "defaults":
            form = ChoicesForm(request.POST, initial=initial, prefix="defaults")
            if form.is_valid():
                entry = services.defaults_set(
                    actor=request.user, owner=owner, choices=form.choices()
                )
                _saved(request, entry, owner)
                return redirect(context["preferences_url"])
        elif section == "credit":
            credit_form = CreditForm(request.POST, instance=credit, prefix="credit")
            if credit_form.is_valid():
                try:
                    entry = services.credit_set(
                        actor=request.user, owner=owner, **credit_form.cleaned_data
                    )
                except ValidationError as exc:
                    add_service_errors(credit_form, exc)
                else:
                    _saved(request, entry, owner)
                    return redirect(context["preferences_url"] + "#credit-heading")

    effective = decisions.defaults_for(owner)
    rows = [
        {
            "use": use,
            "field": bound,
            "options": [
                (
                    radio,
                    consequence(use, radio.data["value"]),
                    radio.data["value"] == initial[field_name(use)],
                )
                for radio in bound
            ],
            **_genai_note(use, effective[use], who=context["who"], kind=None),
        }
        for use, bound in form.use_fields()
    ]
    works_page = None
    if mandate is not None:
        works = works_for_owner(owner, status="all", sort="title").select_related(None)
        works_page = Paginator(works.prefetch_related(None), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "consent/preferences.html",
        {
            **context,
            "form": form,
            "rows": rows,
            "credit": credit,
            "credit_url": "#id_credit-licensing_contact",
            "whose": "their" if mandate is not None else "your",
            "credit_form": credit_form,
            "works_page": works_page,
        },
    )


# --- One work ----------------------------------------------------------------------------------


@login_required
def work(request, public_id):
    work = access.work_of(request.user, public_id)
    return _work_page(request, request.user, work, None)


@login_required
def member_work(request, ref, public_id):
    member, mandate = access.member_for_staff(request.user, ref)
    work = access.work_of(member, public_id)
    return _work_page(request, member, work, mandate)


def _work_page(request, owner, work, mandate):
    context = _acting(request, owner, mandate)
    kind = kind_word(work)
    defaults = decisions.defaults_for(owner)
    whose = "my" if mandate is None else f"{owner.label}’s"
    follow_labels = {
        use: f"Follow {whose} default (now: {CHOICE_WORDS[defaults[use].choice]})" for use in USES
    }
    current = selectors.overrides_for(work)
    initial = {field_name(use): current.get(use, FOLLOW) for use in USES}
    form = ChoicesForm(initial=initial, follow_labels=follow_labels)
    if request.method == "POST":
        form = ChoicesForm(request.POST, initial=initial, follow_labels=follow_labels)
        if form.is_valid():
            entry = services.override_set(actor=request.user, work=work, choices=form.choices())
            _saved(request, entry, owner)
            return redirect(_work_url(owner, work, mandate))

    today = timezone.localdate()
    effective = decisions.decisions_for_work(work, on=today)
    grants = []
    for grant in selectors.grants_touching(work, on=today):
        if any(g["developer"] == grant.developer for g in grants):
            continue
        for_developer = decisions.decisions_for_work(work, developer=grant.developer, on=today)
        granted = [d for d in for_developer.values() if d.source == "grant"]
        if granted:
            grants.append(
                {
                    "developer": grant.developer,
                    "decisions": [(d, d.plain(kind)) for d in granted],
                }
            )
    rows = []
    for use, bound in form.use_fields():
        decision = effective[use]
        source = source_words(decision, who=context["who"])
        options = []
        for radio in bound:
            value = radio.data["value"]
            if value == initial[field_name(use)]:  # what is saved: what applies now, and why
                options.append((radio, f"{decision.plain(kind)} ({source})", True))
                continue
            choice = defaults[use].choice if value == FOLLOW else value
            options.append((radio, consequence(use, choice, kind), False))
        rows.append(
            {
                "use": use,
                "field": bound,
                "options": options,
                "effective": decision,
                "default_word": CHOICE_WORDS[defaults[use].choice],
                "follows_licence": defaults[use].choice == "licence",
                **_genai_note(use, decision, who=context["who"], kind=kind),
            }
        )
    return render(
        request,
        "consent/work.html",
        {
            **context,
            "work": work,
            "form": form,
            "rows": rows,
            "follow_header": "Follow my default" if mandate is None else "Their default",
            "credit": CreditPreference.objects.filter(owner=owner).first(),
            "credit_url": context["preferences_url"] + "#credit-heading",
            "whose": "their" if mandate is not None else "your",
            "grants": grants,
            "self_url": _work_url(owner, work, mandate),
        },
    )


# --- Bulk apply --------------------------------------------------------------------------------

FILTERS = ["scope", "kind", "q", "claim", "status"]


def _preview_sentence(selected: int, changing: int, use: str, choice: str | None) -> str:
    if not selected:
        return "No work matches: there is nothing to change."
    if not changing:
        return "They all have this choice already: there is nothing to change."
    them = f"{changing} of them"
    if choice is None:
        return (
            f"Making them follow your default for {USE_WORDS[use]} will change {them} "
            "(the works with a choice of their own)."
        )
    rest = "" if changing == selected else " The others already have this choice."
    return f"Setting {USE_WORDS[use]} to {CHOICE_WORDS[choice]} will change {them}.{rest}"


@login_required
def bulk(request):
    owner = request.user
    preview = None
    if request.method == "POST":
        form = BulkConfirmForm(request.POST, auto_id="confirm_%s")
        if form.is_valid():
            try:
                entry = services.bulk_apply(
                    actor=request.user,
                    owner=owner,
                    works=form.selection(owner),
                    use=form.cleaned_data["use"],
                    choice=form.chosen,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                _saved(request, entry, owner)
                query = QueryDict(mutable=True)
                query.update({k: form.cleaned_data.get(k) or "" for k in FILTERS})
                return redirect(f"{reverse('consent:bulk')}?{query.urlencode()}")
        chooser = BulkForm(request.POST)
        chooser.is_valid()
    elif "use" in request.GET or "choice" in request.GET:
        chooser = BulkForm(request.GET)
        form = None
    else:
        chooser = BulkForm(initial={k: request.GET[k] for k in FILTERS if k in request.GET})
        form = None

    if chooser.is_bound and chooser.is_valid():
        works = chooser.selection(owner)
        use, choice = chooser.cleaned_data["use"], chooser.chosen
        selected, changing = selectors.bulk_preview(works, use=use, choice=choice)
        if form is None:
            form = BulkConfirmForm(initial=chooser.cleaned_data, auto_id="confirm_%s")
        preview = {
            "selected": selected,
            "changing": changing,
            "sentence": _preview_sentence(selected, changing, use, choice),
            "words": consequence(use, choice) if choice else "",
        }
    return render(
        request,
        "consent/bulk.html",
        {"chooser": chooser, "form": form, "preview": preview},
    )


# --- Guild staff: members who gave a mandate ---------------------------------------------------


@login_required
def members(request):
    if not user_roles(request.user).is_guild_staff:
        raise PermissionDenied
    mandates = selectors.mandates_for_staff(request.user)
    page = Paginator(mandates, 50).get_page(request.GET.get("page"))
    return render(request, "consent/members.html", {"page": page})
