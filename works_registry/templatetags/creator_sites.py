"""Sites on lower apps' pages (the way a lower page shows higher data): the creator's sites on
the creator's profile, and conflicts between sites in the staff's conflict queue."""

from django import template

from ..models import Site
from ..sites_conflicts import site_conflict_queue

register = template.Library()


@register.inclusion_tag("works_registry/_profile_sites.html", takes_context=True)
def my_sites(context):
    """The signed-in creator's sites (not removed), with their status, for the profile page."""
    user = context["request"].user
    sites = Site.objects.filter(owner_id=user.pk).exclude(status=Site.Status.REMOVED)
    return {"sites": list(sites)}


@register.inclusion_tag("works_registry/_site_conflict_rows.html", takes_context=True)
def site_conflicts(context, resolved=False):
    """The site conflicts routed to the signed-in staff member (open, or ``resolved``)."""
    user = context["request"].user
    return {
        "site_conflicts": site_conflict_queue(user, resolved=bool(resolved)),
        "resolved": resolved,
    }
