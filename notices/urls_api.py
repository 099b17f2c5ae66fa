"""The notices part of the JSON API (mounted at ``/api/v1/``), authenticated by API key.
See docs/api.md."""

from django.urls import path

from . import api

app_name = "notices-api"

urlpatterns = [
    path("notices", api.notice_list, name="notice-list"),
    path("notices/<int:pk>", api.notice_detail, name="notice-detail"),
    path("notices/<int:pk>/answers", api.notice_answers, name="notice-answers"),
    path(
        "notices/<int:pk>/attachments/<int:attachment_pk>",
        api.notice_attachment,
        name="notice-attachment",
    ),
    path("notices/<int:pk>/answers/<int:answer_pk>", api.notice_answer, name="notice-answer"),
]
