"""The creator's side of disclosures — "Found in datasets" (docs/disclosures.md): the findings
about a creator's own works and sites, in disclosures whose matching is done; their decision on
each (confirmed, or dismissed as "not my work": it then leaves the developer's exclusion list,
``reports._counted``); and a removal request drafted from a selection of them.

A creator sees only findings whose work (or site) they own: never another creator's finding,
nor any other row of a manifest. Selectors read; services write, each in one transaction with
its audit rows (``accounts.services.audit_record``)."""

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.formats import date_format

from accounts.models import User
from accounts.services import audit_record
from notices.models import AIDeveloper
from removals import services as removal_services
from removals.models import Ask, RemovalRequest
from works.csvsafe import safe_row
from works.models import Work
from works_registry.models import Site

from .models import Disclosure, Finding

PAGE_SIZE = 20
# A selection sent at once (the checkboxes of a page or a few): more is refused with a message.
SELECTION_MAX = 500
# Rows named in a removal request's "where used" text; the evidence file lists them all.
WHERE_USED_ROWS = 60
VALUE_SHOWN = 300

Kind = Finding.Kind
State = Finding.State


# --- Selectors -----------------------------------------------------------------------------------


def _branches(
    user: User,
    *,
    developer: int | None = None,
    disclosure: int | None = None,
    kind: str = "",
    state: str = "",
) -> tuple[QuerySet[Finding], QuerySet[Finding]]:
    """The creator's findings about their works, and about their sites, of disclosures whose
    matching is done — narrowed by developer, disclosure, kind of match and state when given.

    The database must reach these findings from the creator's works and sites — through the
    ``finding_work`` and ``finding_site`` indexes, (work or site, state, disclosure, row), which
    hold all a list or a count reads — and never from a disclosure, whose findings may be
    millions of other creators' rows. So the works and sites are ``IN (SELECT …)`` lists; the
    disclosures not done (the few queued, running or stopped) a ``NOT IN`` list read once; and
    a developer's or a dataset's filter a correlated ``EXISTS`` checked on each of the creator's
    findings — never a join or a list a planner could start from."""
    not_done = Disclosure.objects.exclude(state=Disclosure.State.DONE).order_by().values("pk")
    findings = Finding.objects.exclude(disclosure__in=not_done)
    if developer or disclosure:
        chosen = Disclosure.objects.filter(pk=OuterRef("disclosure_id"))
        if developer:
            chosen = chosen.filter(developer_id=developer)
        if disclosure:
            chosen = chosen.filter(pk=disclosure)
        findings = findings.filter(Exists(chosen))
    if kind:
        findings = findings.filter(kind=kind)
    if state:
        findings = findings.filter(state=state)
    works = Work.objects.filter(owner_id=user.pk).order_by().values("pk")
    sites = Site.objects.filter(owner_id=user.pk).order_by().values("pk")
    return findings.filter(work__in=works), findings.filter(site__in=sites)


def findings_for_creator(user: User, **filters) -> QuerySet[Finding]:
    """Every finding about ``user``'s works and sites, of done disclosures (``_branches``'
    filters), as one queryset: for looking findings up by id. Lists and counts use
    ``findings_listed``."""
    if user is None or not user.is_authenticated:
        return Finding.objects.none()
    about_works, about_sites = _branches(user, **filters)
    return about_works | about_sites


ORDER = ("-disclosure_id", "row", "pk")


def findings_listed(user: User, **filters) -> QuerySet:
    """The ids of the creator's findings (``_branches``' filters), newest disclosure first, then
    in row order: ``(pk, disclosure_id, row)`` rows of a ``UNION ALL`` of the findings about
    their works and about their sites (a finding is about one or the other, never both). A union
    rather than ``work IN … OR site IN …``: each half is read from its own index on every
    database (PostgreSQL reads an ``OR`` of two subqueries by scanning the table)."""
    if user is None or not user.is_authenticated:
        return Finding.objects.none().values_list("pk", "disclosure_id", "row")
    about_works, about_sites = _branches(user, **filters)
    columns = ("pk", "disclosure_id", "row")
    return (
        about_works.order_by()
        .values_list(*columns)
        .union(about_sites.order_by().values_list(*columns), all=True)
        .order_by(*ORDER)
    )


def with_details(findings: QuerySet[Finding]) -> QuerySet[Finding]:
    return findings.select_related("disclosure__developer", "work", "site")


def findings_page(user: User, number, *, per_page: int = PAGE_SIZE, **filters) -> Page:
    """One page of the creator's findings in three queries whatever their number: the count,
    the page's ids (read from the indexes and sorted, no join), then those rows with their
    disclosure, developer, work or site."""
    page = Paginator(findings_listed(user, **filters), per_page).get_page(number)
    ids = [pk for pk, _, _ in page.object_list]
    rows = {f.pk: f for f in with_details(Finding.objects.filter(pk__in=ids))} if ids else {}
    page.object_list = [rows[pk] for pk in ids if pk in rows]
    return page


def disclosures_for_creator(user: User) -> list[Disclosure]:
    """The done disclosures in which ``user`` has findings (the page's developer and dataset
    filters), newest first, with their developers. One query."""
    if user is None or not user.is_authenticated:
        return []
    about_works, about_sites = _branches(user)
    ids = (
        about_works.order_by()
        .values("disclosure_id")
        .union(about_sites.order_by().values("disclosure_id"), all=True)
    )
    return list(Disclosure.objects.filter(pk__in=ids).select_related("developer").order_by("-pk"))


def new_findings_count(user: User) -> int:
    """How many findings ``user`` has not decided on yet (their dashboard)."""
    return findings_listed(user, state=State.NEW).order_by().count()


def findings_by_ids(user: User, ids: Iterable[int]) -> list[Finding] | None:
    """The findings of ``ids``, all ``user``'s and of done disclosures — or None when any of them
    is not (it does not exist, it is another creator's, its disclosure is not done)."""
    wanted = set(ids)
    found = list(with_details(findings_for_creator(user).filter(pk__in=wanted)).order_by(*ORDER))
    return found if len(found) == len(wanted) else None


# --- Deciding ------------------------------------------------------------------------------------


def _require_own(actor: User, findings: list[Finding]) -> None:
    """Each finding is about the actor's own work or site, in a done disclosure."""
    ids = {f.pk for f in findings}
    own = set(findings_for_creator(actor).filter(pk__in=ids).values_list("pk", flat=True))
    if own != ids:
        raise PermissionDenied("Only the creator decides on a finding about their work.")


DECISIONS = {State.CONFIRMED: "confirm", State.DISMISSED: "dismiss"}


@transaction.atomic
def findings_decide(*, actor: User, findings: Iterable[Finding], state: str) -> int:
    """Confirm findings (``state="confirmed"``), or dismiss them as "not my work"
    (``"dismissed"``: they leave the developer's exclusion list and report). Findings already in
    that state are left as they are; each change sets ``decided_at`` and writes an audit row.
    Returns how many changed. One creator's decision touches only their own findings."""
    if state not in DECISIONS:
        raise ValidationError("A finding is confirmed or dismissed.")
    findings = list(findings)
    if not findings:
        raise ValidationError("Choose at least one finding.")
    if len(findings) > SELECTION_MAX:
        raise ValidationError(f"Choose at most {SELECTION_MAX} findings at once.")
    _require_own(actor, findings)
    locked = list(
        Finding.objects.select_for_update()
        .filter(pk__in=[f.pk for f in findings])
        .exclude(state=state)
        .select_related("disclosure")
        .order_by("pk")
    )
    now = timezone.now()
    Finding.objects.filter(pk__in=[f.pk for f in locked]).update(state=state, decided_at=now)
    for finding in locked:
        before = finding.state
        audit_record(
            actor=actor,
            action=f"finding.{DECISIONS[state]}",
            obj=finding,
            before={"state": before},
            after={"state": state, "disclosure": finding.disclosure_id, "row": finding.row},
        )
    changed = {f.pk for f in locked}
    for finding in findings:  # the caller's objects show the new state
        if finding.pk in changed:
            finding.state, finding.decided_at = state, now
    return len(locked)


# --- A removal request from findings -------------------------------------------------------------

# What a dataset used for these purposes is asked to do (the draft's "what you ask"; the creator
# can change it before submitting). Stopping the use is asked in every case.
USE_ASKS = {
    "train-genai": [Ask.DATASETS, Ask.MODELS],
    "train-ai": [Ask.DATASETS, Ask.MODELS],
    "ai-input": [Ask.INFERENCE],
}


def asks_for(disclosures: Iterable[Disclosure]) -> list[str]:
    asks = [Ask.CEASE.value]
    for disclosure in disclosures:
        for use in disclosure.uses:
            asks.extend(ask.value for ask in USE_ASKS.get(use, []))
    order = list(Ask.values)
    return sorted(set(asks), key=order.index)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _plain(value: str, limit: int = VALUE_SHOWN) -> str:
    """A manifest's value as one line of plain text (it is data from the developer's file)."""
    text = " ".join(_CONTROL.sub(" ", value or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def match_words(finding: Finding) -> str:
    """How a finding matched, in words: its kind, weaker evidence for title and author, and an
    image's distance in bits."""
    words = finding.get_kind_display()
    if finding.weak:
        words += " (weaker evidence)"
    if finding.kind == Kind.PHASH:
        words += f", {finding.distance} bit{'s' if finding.distance != 1 else ''} apart"
    return words


def _dataset(disclosure: Disclosure) -> str:
    return f"“{disclosure.name}”" + (f" version {disclosure.version}" if disclosure.version else "")


def _where_used(disclosures: list[Disclosure], findings: list[Finding], evidence_name: str) -> str:
    """The draft's "where the works were used": each disclosure (name, version, developer, when,
    declared uses, public summary) and the matched rows — the creator's own rows only — as many
    as fit (``WHERE_USED_ROWS``, and well within the request's text limit); the evidence file
    lists every one."""
    by_disclosure: dict[int, list[Finding]] = {}
    for finding in findings:
        by_disclosure.setdefault(finding.disclosure_id, []).append(finding)
    budget = removal_services.TEXT_MAX - 1_000
    parts, shown = [], 0
    for disclosure in disclosures:
        disclosed = date_format(timezone.localtime(disclosure.created_at), "j F Y")
        lines = [
            f"Found in the dataset {_dataset(disclosure)}, disclosed to the Creator Consent "
            f"Portal by {disclosure.developer.name} on {disclosed}.",
            f"Declared uses: {', '.join(disclosure.use_labels)}.",
        ]
        if disclosure.summary_url:
            lines.append(f"Public summary: {disclosure.summary_url}")
        lines.append("Matched rows of its manifest:")
        for finding in by_disclosure[disclosure.pk]:
            line = (
                f"- row {finding.row}: {match_words(finding)}: {_plain(finding.value)}"
                f" — “{_plain(finding.work.title, 200)}”"
            )
            used = sum(len(p) + 2 for p in parts) + sum(len(x) + 1 for x in lines)
            if shown >= WHERE_USED_ROWS or used + len(line) > budget:
                break
            lines.append(line)
            shown += 1
        parts.append("\n".join(lines))
    text = "\n\n".join(parts)
    if shown < len(findings):
        text += (
            f"\n\n… and {len(findings) - shown} more rows: every matched row is in the attached "
            f"file {evidence_name}."
        )
    return text[: removal_services.TEXT_MAX]


EVIDENCE_FIELDS = [
    "developer",
    "dataset",
    "version",
    "public_summary",
    "disclosed_at",
    "row",
    "match",
    "weak",
    "distance",
    "value",
    "work",
    "work_public_id",
]


def evidence_csv(findings: list[Finding]) -> bytes:
    """The matched rows as CSV (UTF-8 with a byte-order mark, cells safe for spreadsheets)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EVIDENCE_FIELDS)
    for f in findings:
        d = f.disclosure
        writer.writerow(
            safe_row(
                [
                    d.developer.name,
                    _plain(d.name, 200),
                    _plain(d.version, 100),
                    d.summary_url,
                    d.created_at.date().isoformat(),
                    f.row,
                    f.kind,
                    "yes" if f.weak else "no",
                    f.distance if f.kind == Kind.PHASH else "",
                    _plain(f.value, 500),
                    _plain(f.work.title, 300),
                    f.work.public_id,
                ]
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode()


@dataclass
class Drafted:
    request: RemovalRequest
    developer: AIDeveloper
    works: int
    sites_left_out: int = 0
    archived_left_out: list[str] = field(default_factory=list)
    evidence_attached: bool = True


def _refuse_selection(findings: list[Finding]) -> None:
    if not findings:
        raise ValidationError("Tick the findings to ask about first.")
    if len(findings) > SELECTION_MAX:
        raise ValidationError(f"Choose at most {SELECTION_MAX} findings at once.")
    developers = {f.disclosure.developer_id: f.disclosure.developer for f in findings}
    if len(developers) > 1:
        names = ", ".join(sorted(d.name for d in developers.values()))
        raise ValidationError(
            f"These findings come from {len(developers)} developers ({names}). A removal request "
            "made from findings goes to one developer: choose the findings of one of them."
        )
    developer = next(iter(developers.values()))
    if not developer.is_active:
        raise ValidationError(
            f"{developer.name} is no longer in the registry of AI developers: no notice can be "
            "sent to it."
        )
    dismissed = [f for f in findings if f.state == State.DISMISSED]
    if dismissed:
        raise ValidationError(
            f"You said {len(dismissed)} of these findings "
            f"{'are' if len(dismissed) != 1 else 'is'} not your work. Confirm "
            f"{'them' if len(dismissed) != 1 else 'it'} first, or leave "
            f"{'them' if len(dismissed) != 1 else 'it'} out of the selection."
        )


def removal_draft_from_findings(*, actor: User, findings: Iterable[Finding]) -> Drafted:
    """Ask for removal: a removal request draft holding exactly the works of ``findings``
    (all the actor's own, of one developer), addressed to that developer, asking what the
    disclosures' uses call for, with where they were used (each disclosure and the matched rows)
    and the rows as an evidence file. The work findings used are confirmed. Findings about a
    site, and archived works, are left out (a request names works that are active)."""
    findings = list(findings)
    _refuse_selection(findings)
    _require_own(actor, findings)
    developer = findings[0].disclosure.developer
    work_findings = [f for f in findings if f.work_id]
    sites_left_out = len(findings) - len(work_findings)
    archived = {
        f.work_id: f.work.title for f in work_findings if f.work.status == Work.Status.ARCHIVED
    }
    used = [f for f in work_findings if f.work_id not in archived]
    if not used:
        if sites_left_out and not archived:
            raise ValidationError(
                "These findings are about your sites: a removal request names works. Your "
                "sites' pages follow your AI choices."
            )
        raise ValidationError(
            "None of these findings is about an active work: archived works cannot be named in "
            "a request."
        )
    works = list({f.work_id: f.work for f in used}.values())
    disclosures = list({f.disclosure_id: f.disclosure for f in used}.values())
    datasets = ", ".join(_dataset(d) for d in disclosures)
    title = f"{developer.name}: {datasets}"
    # Stored as text (evidence files are images, PDF or text: ``removals.evidence``).
    evidence_name = f"found-in-datasets-{developer.slug}.txt"
    stored = []
    try:
        with transaction.atomic():
            request = removal_services.draft_create(actor=actor, creator=actor, title=title)
            request = removal_services.draft_update(
                actor=actor,
                request=request,
                works=works,
                developers=[developer],
                asks=asks_for(disclosures),
                where_used=_where_used(disclosures, used, evidence_name),
            )
            undecided = [f for f in used if f.state != State.CONFIRMED]
            if undecided:
                findings_decide(actor=actor, findings=undecided, state=State.CONFIRMED)
            attached = True
            upload = SimpleUploadedFile(evidence_name, evidence_csv(used), "text/plain")
            try:
                stored.append(
                    removal_services.evidence_add(
                        actor=actor,
                        request=request,
                        upload=upload,
                        note="The matched rows of the disclosed dataset's manifest.",
                    )
                )
            except ValidationError as exc:
                if getattr(exc, "code", None) != "quota":
                    raise
                attached = False  # the rows are named in "where used" all the same
            audit_record(
                actor=actor,
                action="finding.ask_removal",
                obj=request,
                after={
                    "developer": developer.pk,
                    "findings": [f.pk for f in used],
                    "works": [w.pk for w in works],
                },
            )
    except BaseException:
        for evidence in stored:  # the rows rolled back: the file goes too
            evidence.file.delete(save=False)
        raise
    return Drafted(
        request=request,
        developer=developer,
        works=len(works),
        sites_left_out=sites_left_out,
        archived_left_out=sorted(archived.values()),
        evidence_attached=attached,
    )
