from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render

from accounts.selectors import user_roles

from . import selectors
from .models import AIDeveloper


def _require_reader(user):
    if not user_roles(user).can_read_registry:
        raise PermissionDenied


@login_required
def developer_list(request):
    _require_reader(request.user)
    return render(request, "notices/developer_list.html", {"developers": selectors.developers()})


@login_required
def developer_detail(request, slug):
    _require_reader(request.user)
    developer = get_object_or_404(AIDeveloper, slug=slug)
    return render(request, "notices/developer_detail.html", {"developer": developer})
