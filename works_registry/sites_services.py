"""Every change to a creator's sites (docs/sites.md). One service per change of status —
``site_declare`` (→ pending), ``site_verify`` (→ verified), ``site_suspend`` (→ suspended),
``site_remove`` (→ removed) — each in one transaction with its audit row; the last three
through ``_status_set``, which tells the listeners registered with
``register_status_listener`` (the change feed hooks in there).

Checks: ``site_check_request`` (the owner's "check now") marks the site due and wakes the worker
after commit; ``site_check`` (the worker) claims a due site with one conditional UPDATE, looks
for the token outside any transaction (``sites_proof.prove``), then records the outcome. The
beat task ``sites_recheck`` wakes the worker for every due site, in batches: verified sites
every ``SITES_RECHECK_DAYS``, and any check whose message was lost (the claim's lease ran out,
or the broker never took it). A verified site whose check fails stays verified for a grace of
``SITES_GRACE_DAYS`` (re-checked daily, its creator emailed once), then is suspended (emailed
again); one success ends the grace. Time is always an argument (``now=``), never slept.
"""

import math
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts import broker, mail
from accounts.models import User
from accounts.services import audit_record

from . import sites_proof
from .models import Site
from .sites import site_address

Status = Site.Status
RECHECK_IN_GRACE = timedelta(days=1)


def _owned(actor: User, site: Site) -> None:
    if site.owner_id != actor.pk:
        raise PermissionDenied("This site is not yours.")


def _page_url(site: Site) -> str:
    return settings.SITE_URL + site.get_absolute_url()


def _wake(site_id: int) -> None:
    from .tasks import site_check

    broker.publish(site_check, args=(site_id,))


# --- Status changes -----------------------------------------------------------------------------


@transaction.atomic
def site_declare(*, actor: User, address: str, now: datetime | None = None) -> Site:
    """A creator says a site is theirs: a pending site with its token, to publish on it.
    ``ValidationError`` (field ``url``) for an address that cannot be a site, one they have
    already declared, or past ``SITES_MAX_PER_CREATOR``."""
    try:
        parsed = site_address(address)
    except ValidationError as exc:
        raise ValidationError({"url": exc.messages}) from None
    User.objects.select_for_update().filter(pk=actor.pk).first()  # one declaration at a time
    live = Site.objects.filter(owner=actor, status__in=Site.LIVE)
    if live.filter(host=parsed.host, path=parsed.path).exists():
        raise ValidationError({"url": "You have already declared this site."})
    if live.count() >= settings.SITES_MAX_PER_CREATOR:
        raise ValidationError(
            {"url": f"You can declare at most {settings.SITES_MAX_PER_CREATOR} sites."}
        )
    site = Site(
        owner=actor,
        url=parsed.url,
        host=parsed.host,
        path=parsed.path,
        created_at=now or timezone.now(),
    )
    site.full_clean()
    site.save()
    audit_record(actor=actor, action="site.declare", obj=site, after={"url": site.url})
    return site


def site_verify(*, site: Site, method: str, now: datetime, actor: User | None = None) -> Site:
    """The token was found: the site counts (pending or suspended → verified). Call inside the
    transaction that records the check, the site locked. Overlaps with other creators' sites
    become conflicts for staff."""
    from .sites_conflicts import site_conflicts_detect

    site.method = method
    site.verified_at = now
    site.suspended_at = None
    site.failing_since = None
    _status_set(site, Status.VERIFIED, actor=actor, method=method)
    site_conflicts_detect(site=site, now=now)
    return site


def site_suspend(*, site: Site, now: datetime, reason: str, actor: User | None = None) -> Site:
    """Re-checks failed past the grace: the site stops counting until a check finds the token
    again (verified → suspended); its creator is emailed. Inside the recording transaction."""
    site.suspended_at = now
    site.next_check_at = None
    _status_set(site, Status.SUSPENDED, actor=actor, reason=reason)
    mail.queue_templated(
        "works_registry/email/site_suspended",
        [site.owner.email],
        {"site": site, "reason": reason, "page_url": _page_url(site)},
    )
    return site


@transaction.atomic
def site_remove(*, actor: User, site: Site, reason: str = "", staff: bool = False) -> Site:
    """The site no longer counts, for good (any live status → removed): removed by its owner, or —
    ``staff`` — by the staff resolving a conflict (the caller checked they may)."""
    site = Site.objects.select_for_update().get(pk=site.pk)
    if not staff:
        _owned(actor, site)
    if site.status == Status.REMOVED:
        raise ValidationError("This site is already removed.")
    site.removed_at = timezone.now()
    site.removed_by = actor
    site.removed_reason = reason
    site.next_check_at = None
    site.check_requested_at = None
    _status_set(site, Status.REMOVED, actor=actor, reason=reason)
    return site


# Called with (site, status before) after every change of status, inside its transaction:
# what must follow a site's status (the change feed) registers here.
_status_listeners: list = []


def register_status_listener(listener) -> None:
    if listener not in _status_listeners:
        _status_listeners.append(listener)


def _status_set(site: Site, status: str, *, actor: User | None, reason: str = "", **after):
    """Save ``site`` in ``status`` with its audit row (``site.<verify|suspend|remove>``), and
    tell the listeners."""
    before = site.status
    site.status = status
    site.save()
    action = {Status.VERIFIED: "verify", Status.SUSPENDED: "suspend", Status.REMOVED: "remove"}
    audit_record(
        actor=actor,
        action=f"site.{action[status]}",
        obj=site,
        before={"status": before},
        after={"status": status, **after},
        reason=reason,
    )
    for listener in _status_listeners:
        listener(site, before)


# --- Checks -------------------------------------------------------------------------------------


@transaction.atomic
def site_check_request(*, actor: User, site: Site, now: datetime | None = None) -> Site:
    """The owner's "check now": the site is due at once and the worker is woken after commit.
    Refused for a removed site, while a check they asked for runs (up to ``SITES_CHECK_LEASE``: then
    its message is taken for lost), and within ``SITES_CHECK_INTERVAL`` seconds of the last
    check (each check fetches someone's server)."""
    now = now or timezone.now()
    site = Site.objects.select_for_update().get(pk=site.pk)
    _owned(actor, site)
    if site.status == Status.REMOVED:
        raise ValidationError("This site is removed: declare it again to prove it.")
    lease = timedelta(seconds=settings.SITES_CHECK_LEASE)
    if site.check_requested_at and site.check_requested_at > now - lease:
        raise ValidationError("A check is already under way: its result will show here.")
    wait = timedelta(seconds=settings.SITES_CHECK_INTERVAL)
    if site.last_checked_at and site.last_checked_at > now - wait:
        seconds = math.ceil((site.last_checked_at + wait - now).total_seconds())
        raise ValidationError(
            f"This site was checked a moment ago: you can check it again in {seconds} seconds."
        )
    site.check_requested_at = now
    site.next_check_at = now
    site.save(update_fields=["check_requested_at", "next_check_at"])
    transaction.on_commit(lambda: _wake(site.pk), robust=True)
    return site


def _claim(site_id: int, now: datetime) -> bool:
    """Take a due site for one check: its next check moves a lease on, so a sweep meanwhile
    does not check it twice; a worker that dies leaves it due again when the lease ends."""
    lease = now + timedelta(seconds=settings.SITES_CHECK_LEASE)
    return bool(
        Site.objects.filter(pk=site_id, status__in=Site.LIVE, next_check_at__lte=now).update(
            next_check_at=lease
        )
    )


def site_check(*, site_id: int, now: datetime | None = None) -> Site | None:
    """The worker's check of one site, if it is due (else nothing happens: None)."""
    now = now or timezone.now()
    if not _claim(site_id, now):
        return None
    site = Site.objects.get(pk=site_id)
    proof = sites_proof.prove(site.url, site.token)  # network: outside any transaction
    return _record(site_id, proof, now)


@transaction.atomic
def _record(site_id: int, proof: sites_proof.Proof, now: datetime) -> Site | None:
    site = Site.objects.select_for_update().select_related("owner").get(pk=site_id)
    if site.status == Status.REMOVED:
        return site
    site.last_checked_at = now
    site.last_check_ok = proof.ok
    site.last_check_message = proof.message[:2000]
    site.check_requested_at = None
    recheck = timedelta(days=settings.SITES_RECHECK_DAYS)
    if proof.ok:
        site.next_check_at = now + recheck
        if site.status != Status.VERIFIED:
            return site_verify(site=site, method=proof.method, now=now)
        method_changed = site.method != proof.method
        site.method = proof.method
        site.failing_since = None
        if method_changed:  # published with the site: its answer changed (the change feed)
            site.save()
            for listener in _status_listeners:
                listener(site, Status.VERIFIED)
            return site
    elif site.status == Status.VERIFIED:
        grace = timedelta(days=settings.SITES_GRACE_DAYS)
        if site.failing_since is None:
            site.failing_since = now
            _email_grace(site, now + grace, proof.message)
        if now >= site.failing_since + grace:
            return site_suspend(site=site, now=now, reason=proof.message)
        site.next_check_at = min(now + RECHECK_IN_GRACE, site.failing_since + grace)
    else:  # pending or suspended: checked again when the owner asks
        site.next_check_at = None
    site.save()
    return site


def _email_grace(site: Site, until: datetime, message: str) -> None:
    mail.queue_templated(
        "works_registry/email/site_check_failed",
        [site.owner.email],
        {"site": site, "until": until, "reason": message, "page_url": _page_url(site)},
    )


def sites_due(*, now: datetime | None = None, limit: int | None = None) -> list[int]:
    """Ids of the sites a check is due for, longest due first, at most ``limit``
    (``SITES_SWEEP_BATCH``)."""
    now = now or timezone.now()
    limit = limit or settings.SITES_SWEEP_BATCH
    rows = Site.objects.filter(
        Q(status__in=Site.LIVE), next_check_at__lte=now, next_check_at__isnull=False
    ).order_by("next_check_at", "pk")
    return list(rows.values_list("pk", flat=True)[:limit])


def sites_recheck(*, now: datetime | None = None) -> int:
    """The beat's sweep: wake the worker for each due site (one batch a run; the next run takes
    the next). Returns how many."""
    ids = sites_due(now=now)
    for site_id in ids:
        _wake(site_id)
    return len(ids)
