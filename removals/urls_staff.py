"""The guild staff's side of removal requests, mounted at ``/review/`` (namespace
``removals-staff``)."""

from django.urls import path

from .views import contests
from .views import staff_reports as reports
from .views import staff_review as views

app_name = "removals-staff"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("overdue/", reports.overdue, name="overdue"),
    path("letter/", reports.letter, name="letter"),
    path("stats/", reports.dashboard, name="stats"),
    path("stats/removal-answers.csv", reports.dashboard_csv, name="stats-csv"),
    path("<int:pk>/", views.review, name="review"),
    path("<int:pk>/start/", views.review_start, name="start"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/reject/", views.reject, name="reject"),
    path("<int:pk>/ask/", views.ask_info, name="ask-info"),
    path("<int:pk>/close/", views.close, name="close"),
    path("<int:pk>/answers/<int:contest_pk>/ask-again/", contests.ask_again, name="ask-again"),
    path("<int:pk>/evidence/<int:evidence_pk>/", views.evidence, name="evidence"),
    path("<int:pk>/works/<str:public_id>/thumbnail/", views.thumbnail, name="thumbnail"),
]
