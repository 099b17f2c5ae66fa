"""Removal request pages. (Being built.)"""

from django.http import Http404


def request_list(request):
    raise Http404


def request_detail(request, pk):
    raise Http404
