"""Answers to notices: the signed link (no account), the developer's notices, and staff's
notice pages (mounted at the site root; every path is spelled out here)."""

from django.urls import path

from . import views_answers

app_name = "answers"

urlpatterns = [
    path("answer/<str:token>/", views_answers.answer_link, name="link"),
    path("answer/<str:token>/files/<int:file_pk>/", views_answers.link_file, name="link-file"),
    path("developer/notices/", views_answers.developer_notice_list, name="developer-notice-list"),
    path("developer/notices/<int:pk>/", views_answers.developer_notice, name="developer-notice"),
    path("registry/notices/<int:pk>/", views_answers.staff_notice, name="staff-notice"),
    # Files, for the notice's organisation's people and registry managers.
    path("notices/<int:pk>/files/<int:file_pk>/", views_answers.notice_file, name="notice-file"),
    path("notices/answer-files/<int:pk>/", views_answers.answer_file, name="answer-file"),
]
