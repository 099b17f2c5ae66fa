"""The notices part of the JSON API. (Being built.)"""

from django.http import Http404


def notice_answers(request, pk):
    raise Http404
