"""The developer dashboard and the organisation's settings. (Being built.)"""

from django.http import Http404


def home(request):
    raise Http404


def settings_page(request):
    raise Http404


def invitation(request, token):
    raise Http404
