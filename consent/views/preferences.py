from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .. import ledger


@login_required
def history(request):
    """The creator's consent ledger as a timeline, newest first."""
    page = Paginator(ledger.entries_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "consent/history.html", {"page": page})
