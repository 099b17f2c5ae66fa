"""The project's URLs plus ``/bench/trivial/``: the base template rendered with no database
access — the yardstick the public work page is compared with (``bench/public_page.py``)."""

from django.shortcuts import render
from django.urls import include, path


def trivial(request):
    return render(request, "base.html", {})


urlpatterns = [
    path("bench/trivial/", trivial),
    path("", include("portal.urls")),
]
