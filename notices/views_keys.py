"""API keys pages. (Being built.)"""

from django.http import Http404


def developer_keys(request):
    raise Http404


def staff_keys(request, slug):
    raise Http404
