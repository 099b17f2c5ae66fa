"""Answers to notices. (Being built.)"""

from django.http import Http404


def answer_link(request, token):
    raise Http404


def developer_notice_list(request):
    raise Http404


def developer_notice(request, pk):
    raise Http404


def staff_notice(request, pk):
    raise Http404
